/**
 * The ssehub client: a fetch-based Server-Sent Events client with the `EventSource` surface,
 * for browsers and Node ≥ 20, with no dependencies.
 *
 * @module
 */
export { type Backoff, type BackoffOptions, createBackoff } from './backoff.ts'
export type { FetchLike, HeadersOption, SseClientOptions } from './client-options.ts'
export { type SseClientErrorCode, SseErrorEvent, type SseErrorEventInit } from './error-event.ts'
export { detectGap, type GapInit, SseGapEvent } from './gap.ts'
export { createSharedClient, type SharedClientRole, SharedSseClient } from './shared-client.ts'
export type { SharedClientOptions } from './shared-client-options.ts'
export { createClient, type ReadyState, SseClient } from './sse-client.ts'
export { type SseClientEvents, SseEventTarget, type SseListener } from './sse-event-target.ts'
export { type SubscriptionSelectors, subscriptionUrl } from './subscription-url.ts'

import { DEFAULT_HEARTBEAT_MS } from '../core/defaults.ts'

// The client's defaults, each written once: `createBackoff` and `SseClient` read them here.

/** The default reconnection time before a server sends `retry:`, in milliseconds (the `eventsource` package's). */
export const DEFAULT_RETRY_MS = 3000

/** The default cap of the exponential backoff, in milliseconds. */
export const DEFAULT_MAX_RETRY_MS = 30_000

/** How long a connection must stay open, by default, for the backoff to start over, in milliseconds. */
export const DEFAULT_HEALTHY_AFTER_MS = 10_000

/**
 * The default time without an event or a comment after which the client reconnects, in
 * milliseconds: three of the hub's heartbeat intervals (45 s), so one late comment is no reason.
 */
export const DEFAULT_INACTIVITY_TIMEOUT_MS = 3 * DEFAULT_HEARTBEAT_MS

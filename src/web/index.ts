/**
 * ssehub/web: the hub and SSE responses on web-standard `Request` and `Response`, for Hono,
 * Bun, Deno, Next.js route handlers and Workers-style runtimes. `createMercureFetchHandler` is
 * the Mercure hub as a fetch handler; `eventStreamResponse` serves SSE from your own route,
 * without the hub, with the same heartbeats and bounded backpressure as on Node.
 *
 * @module
 */
export type { HubLogger } from '../http/hub-logger.ts'
export { HUB_PATH } from '../http/mercure-protocol.ts'
export type {
  MercureMetrics,
  MercureProtocolVersion,
  OpenTelemetryTracer,
} from '../http/mercure-service.ts'
export type { TrustedIssuer } from '../hub/access-token-verifier.ts'
export { MissingPackageError } from '../hub/optional-package.ts'
export type { EmbeddedHubOptions } from './embedded-hub.ts'
export {
  DEFAULT_HIGH_WATER_MARK,
  type EventStreamResponse,
  type EventStreamResponseOptions,
  eventStreamResponse,
} from './event-stream-response.ts'
export {
  createMercureFetchHandler,
  type MercureFetchHandler,
  type MercureFetchHandlerOptions,
  type MercureFetchInfo,
} from './mercure-fetch-handler.ts'

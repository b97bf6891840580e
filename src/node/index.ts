/**
 * ssehub/node: the hub and SSE responses for Node's `http` and `http2` servers, and the
 * frameworks built on them (Express 5, Fastify 5, Koa). `createMercureHandler` mounts the Mercure
 * hub at `/.well-known/mercure` in your server; `openEventStream` serves SSE from your own route,
 * without the hub; `mintToken` signs the tokens publishers and subscribers present.
 *
 * @module
 */
export {
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
} from '../http/event-stream-response.ts'
export type { HubLogger } from '../http/hub-logger.ts'
export { readLastEventId } from '../http/last-event-id.ts'
export { HUB_PATH } from '../http/mercure-protocol.ts'
export { type MintTokenOptions, mintToken } from '../hub/mint-token.ts'
export type { EmbeddedHubOptions } from '../web/embedded-hub.ts'
export {
  createMercureHandler,
  type MercureHandler,
  type MercureHandlerOptions,
} from './hub-handler.ts'

/**
 * ssehub's Node server: SSE responses on `node:http` / `node:http2`, and the hub server.
 *
 * @module
 */
export {
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
} from '../http/event-stream-response.ts'
export { readLastEventId } from '../http/last-event-id.ts'
export { createSsehubServer, type SsehubServer, type SsehubServerOptions } from './server.ts'

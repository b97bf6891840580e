/**
 * ssehub's Node server: SSE responses on `node:http` / `node:http2`, and the hub server that the
 * `ssehub` command runs (composed of the package's other entry points only).
 *
 * @module
 */
export {
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
  readLastEventId,
} from '../node/index.ts'
export {
  createSsehubServer,
  type ServerHubOptions,
  type SsehubServer,
  type SsehubServerOptions,
} from './server.ts'

/**
 * ssehub: the SSE wire format (encoder and WHATWG parser) and one client's outgoing stream.
 * The server lives at `ssehub/server`.
 *
 * @module
 */
export {
  encodeComment,
  encodeEvent,
  formatComment,
  formatEvent,
  formatRetry,
  type SseEvent,
} from './core/encode.ts'
export { SseError, type SseErrorCode } from './core/errors.ts'
export {
  createEventStream,
  DEFAULT_MAX_QUEUE_BYTES,
  type EventSink,
  EventStream,
  type EventStreamCloseHandler,
  type EventStreamCloseListener,
  type EventStreamCloseReason,
  type EventStreamOptions,
} from './core/event-stream.ts'
export {
  createHeartbeat,
  DEFAULT_HEARTBEAT_MS,
  type Heartbeat,
  type HeartbeatOptions,
  type HeartbeatTarget,
  sharedHeartbeat,
} from './core/heartbeat.ts'
export { createParser, type Parser, type ParserOptions, type SseMessage } from './core/parse.ts'
export {
  EventSourceParserStream,
  type EventSourceParserStreamOptions,
} from './core/parse-stream.ts'

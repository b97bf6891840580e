/**
 * ssehub: the SSE wire format (encoder and WHATWG parser) and one client's outgoing stream.
 * The server lives at `ssehub/server`.
 *
 * @module
 */

export {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
} from './core/defaults.ts'
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
  type EventSink,
  EventStream,
  type EventStreamCloseHandler,
  type EventStreamCloseListener,
  type EventStreamCloseReason,
  type EventStreamOptions,
} from './core/event-stream.ts'
export {
  createHeartbeat,
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

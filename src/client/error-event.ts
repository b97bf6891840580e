/**
 * Why an {@link SseErrorEvent} fired. The client reconnects after the first four (readyState is
 * `CONNECTING`) and gives up after the others (readyState is `CLOSED`); its `message` says why.
 *
 * - `network-error`: the request or the stream failed (refused, reset, DNS, TLS…).
 * - `stream-ended`: the server ended the response normally; [spec] the client reconnects.
 * - `inactivity-timeout`: nothing, not even a heartbeat comment, arrived for `inactivityTimeoutMs`.
 * - `headers-failed`: the `headers` callback threw or rejected (a token refresh failed, say).
 * - `no-content`: the server answered 204, its way of saying "stop reconnecting".
 * - `headers-too-large`: the server answered 431: the request's headers are too large, often
 *   a `Last-Event-ID` the server once sent that is too long to send back (the message gives its
 *   size), or big cookies.
 * - `url-too-long`: the server (or a proxy) answered 414: too many or too long topics.
 * - `http-status`: another status than 200 (`status` says which).
 * - `bad-content-type`: a 200 whose Content-Type is not `text/event-stream`.
 * - `line-too-long`, `event-too-large`: the stream broke the parser's bounds; reconnecting would
 *   only fetch the same oversized event again.
 */
export type SseClientErrorCode =
  | 'network-error'
  | 'stream-ended'
  | 'inactivity-timeout'
  | 'headers-failed'
  | 'no-content'
  | 'headers-too-large'
  | 'url-too-long'
  | 'http-status'
  | 'bad-content-type'
  | 'line-too-long'
  | 'event-too-large'

/** What a {@link SseErrorEvent} carries. */
export interface SseErrorEventInit {
  /** Why. */
  code: SseClientErrorCode
  /** A human-readable explanation; never contains a token or header value. */
  message: string
  /** The HTTP status, when a response caused it. */
  status?: number | undefined
}

/**
 * The `error` event of an {@link SseClient}. A plain `Event` for code written against the
 * standard (no bubbling, not cancelable), with the reason added: errors are reported this way,
 * never thrown from the connection's async internals. Check `readyState` (or `code`) to tell a
 * reconnection from the end.
 */
export class SseErrorEvent extends Event {
  /** Why, as a stable string to switch on. */
  readonly code: SseClientErrorCode
  /** A human-readable explanation. */
  readonly message: string
  /** The HTTP status, when a response caused the error. */
  readonly status: number | undefined

  constructor(init: SseErrorEventInit) {
    super('error')
    this.code = init.code
    this.message = init.message
    this.status = init.status
  }
}

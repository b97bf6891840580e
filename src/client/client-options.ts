/**
 * A `fetch` the client can use: the global one, or a stand-in (a test double, a `fetch` bound
 * to an undici `Agent`, one that adds tracing). It must return a `Response` whose `body` is a
 * web `ReadableStream` and honour `init.signal`.
 */
export type FetchLike = (input: string | URL, init: RequestInit) => Promise<Response>

/**
 * Request headers for each connection: a fixed set, or a function (possibly async) the client
 * calls before every connection and every reconnection, so a refreshed token is always used.
 */
export type HeadersOption = HeadersInit | (() => HeadersInit | Promise<HeadersInit>)

/** Options for {@link SseClient} and {@link createClient}. Every option is optional. */
export interface SseClientOptions {
  /**
   * Request headers, such as `Authorization: Bearer …`. As a function, it is called before every
   * connection attempt (the first and each reconnection), so a token refreshed in the meantime
   * is used and an expired one is never replayed. If it throws or rejects, the attempt is
   * reported as `headers-failed` and retried with backoff. The client's own `Last-Event-ID`
   * wins over one given here. Defaults to none.
   */
  headers?: HeadersOption
  /**
   * Send cookies and HTTP authentication with cross-origin requests (fetch `credentials:
   * 'include'` rather than `'same-origin'`), as `EventSource`'s option of the same name. The hub
   * must then list the page's origin in `--cors-origins`. Defaults to `false`.
   */
  withCredentials?: boolean
  /** The `fetch` to use. Defaults to `globalThis.fetch`. */
  fetch?: FetchLike
  /**
   * The id to resume from on the first connection, sent as `Last-Event-ID`: typically the
   * last id the app saw before a reload. `'earliest'` asks a Mercure hub for its whole history.
   * Without one, the client has a cursor only once the server sent an id: with selectors, an
   * ssehub hub sends its newest id at connect (see `subscriptionUrl`); otherwise a stream that
   * ends before its first event is resumed with no cursor, so what was published in between is
   * not replayed (and no `gap` can tell): when that matters, start from an id the app got with
   * its initial data. Must not contain CR, LF or NUL. Defaults to `''` (no header).
   */
  lastEventId?: string
  /**
   * Mercure 0.x (draft-07): topics or topic selectors, each added to the URL as a `topic`
   * parameter: all of them are one subscription on one connection. Cannot be combined with
   * `match` or `matchUrlPattern`. Defaults to none (the URL is used as given).
   */
  topics?: Iterable<string>
  /**
   * Mercure 1.0: topics matched exactly (byte for byte, never resolved), each added to the URL as
   * a `match` parameter; `*` matches every topic. With `match` or `matchUrlPattern` the hub speaks
   * 1.0, which reads tokens only from the `Authorization` header (see `headers`) or a cookie,
   * never from the URL: a hub URL carrying `authorization` or `access_token` is refused. Cannot
   * be combined with `topics`. Defaults to none.
   */
  match?: Iterable<string>
  /**
   * Mercure 1.0: URL patterns (WHATWG URL Pattern syntax, such as `/books/:id` or
   * `https://example.com/chat/*`), each added to the URL as a `match_urlpattern` parameter; a
   * relative pattern is resolved by the hub against its own URL. Cannot be combined with
   * `topics`. Defaults to none.
   */
  matchUrlPattern?: Iterable<string>
  /**
   * Asks an ssehub hub (`gap=1`) to say in the stream when it cannot resume from the id the
   * client sent: an `event: mercure` block carrying the newest id, which moves the client's
   * cursor there and fires `gap` (once per connection, also when the response header already
   * told). That block is never dispatched as a server event. Useful where a proxy strips the
   * `Last-Event-ID` response header, and so a stream that drops right after a gap resumes from
   * the newest id rather than from the lost one. Other hubs ignore the parameter. Defaults to
   * `false`.
   */
  gapSignal?: boolean
  /**
   * The reconnection time before the server sets one with `retry:`, in milliseconds: the base of
   * the exponential backoff. Defaults to `3000`.
   */
  initialRetryMs?: number
  /**
   * The cap of the exponential backoff, in milliseconds. A server `retry:` above it is honoured
   * as it is. Defaults to `30_000`.
   */
  maxRetryMs?: number
  /**
   * How long a connection must stay open, in milliseconds, for the backoff to start over at the
   * reconnection time. Defaults to `10_000`.
   */
  healthyAfterMs?: number
  /**
   * Full jitter: each reconnection waits a random time between 0 and the backoff's ceiling, so a
   * crowd of clients dropped at once (a hub restart) does not return at once. With `false`, the
   * wait is the ceiling itself (the reconnection time on a first retry). Defaults to `true`.
   */
  jitter?: boolean
  /**
   * Reconnect when nothing arrives for this long, in milliseconds: neither an event nor a
   * heartbeat comment (the hub sends one every 15 s). It catches connections that died without a
   * FIN (a sleeping laptop, a NAT that forgot the flow) and connection attempts that hang. Keep
   * it above the hub's heartbeat interval; `null` disables it. Defaults to `45_000`.
   */
  inactivityTimeoutMs?: number | null
  /** Closes the client when it aborts, as a call to `close()` would. Defaults to none. */
  signal?: AbortSignal
}

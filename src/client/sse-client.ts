import { createParser, type Parser, type SseMessage } from '../core/parse.ts'
import { type Backoff, createBackoff, MAX_TIMER_MS } from './backoff.ts'
import type { FetchLike, HeadersOption, SseClientOptions } from './client-options.ts'
import { isEventStream } from './content-type.ts'
import {
  DEFAULT_HEALTHY_AFTER_MS,
  DEFAULT_INACTIVITY_TIMEOUT_MS,
  DEFAULT_MAX_RETRY_MS,
  DEFAULT_RETRY_MS,
} from './defaults.ts'
import { type SseClientErrorCode, SseErrorEvent } from './error-event.ts'
import { detectGap, type GapInit, readGapBlock, SseGapEvent } from './gap.ts'
import { toHeaderValue } from './header-value.ts'
import { MessageQueue } from './message-queue.ts'
import { SseEventTarget } from './sse-event-target.ts'
import { RETRIED_STATUSES, retryAfterMs, statusError } from './status-error.ts'
import { subscriptionUrl } from './subscription-url.ts'
import { createWatchdog, type Watchdog } from './watchdog.ts'

/** The `readyState` values, as `EventSource` numbers them. */
export type ReadyState = 0 | 1 | 2

/** One connection attempt: everything a close or a timeout must reach. */
interface Connection {
  readonly controller: AbortController
  readonly watchdog: Watchdog | null
  /** The body's reader once the stream is open: cancelled on detach. */
  reader: ReadableStreamDefaultReader<Uint8Array> | null
  /** Whether `gap` was fired for it: the header and the hub's in-stream signal tell one gap. */
  gapTold: boolean
}

const CONNECTING = 0
const OPEN = 1
const CLOSED = 2

/**
 * A Server-Sent Events client with the `EventSource` surface, built on `fetch`: custom headers
 * (re-read before every reconnection), exponential backoff with full jitter, an inactivity
 * watchdog, and detection of updates missed while disconnected from a Mercure hub (`gap`).
 * Runs in browsers and Node ≥ 20. It connects at once; `close()` stops it for good.
 *
 * Errors are never thrown once it runs: they arrive as {@link SseErrorEvent}s, followed by a
 * reconnection (readyState `CONNECTING`) or by the end (`CLOSED`), as the standard decides.
 *
 * @example
 * ```ts
 * const client = createClient('/.well-known/mercure', {
 *   match: ['/chat/lobby'], // Mercure 1.0; `topics: [...]` for a 0.x subscription
 *   headers: async () => ({ authorization: `Bearer ${await getToken()}` }),
 * })
 * client.addEventListener('gap', () => reloadHistory())
 * client.addEventListener('mercure', (event) => showPresence(JSON.parse(event.data)))
 * for await (const event of client) console.log(event.lastEventId, event.data)
 * ```
 */
export class SseClient extends SseEventTarget {
  readonly #url: URL
  readonly #withCredentials: boolean
  readonly #fetch: FetchLike
  readonly #headers: HeadersOption | undefined
  readonly #inactivityTimeoutMs: number | null
  readonly #backoff: Backoff
  readonly #parser: Parser
  readonly #signal: AbortSignal | undefined
  readonly #gapSignal: boolean
  readonly #queues = new Set<MessageQueue<MessageEvent<string>>>()
  #readyState: ReadyState = CONNECTING
  #connection: Connection | null = null
  #reconnectTimer: ReturnType<typeof setTimeout> | undefined
  #origin: string
  #drained: (() => void) | null = null

  /**
   * Opens a connection to `url`. See {@link SseClientOptions} for the options and defaults.
   *
   * @throws {SyntaxError} when `url` is not a valid URL (relative outside a browser).
   * @throws {TypeError} when `lastEventId` contains CR, LF or NUL, when `topics` are mixed with
   *   `match` or `matchUrlPattern`, or when a Mercure 1.0 URL carries a token.
   * @throws {RangeError} when a duration option is negative or not a number.
   */
  constructor(url: string | URL, options: SseClientOptions = {}) {
    super()
    this.#url = subscriptionUrl(url, options)
    this.#gapSignal = options.gapSignal === true
    this.#origin = this.#url.origin
    const lastEventId = options.lastEventId ?? ''
    if (/[\r\n\0]/.test(lastEventId)) {
      throw new TypeError(
        'lastEventId must not contain CR, LF or NUL: no server could have sent it.',
      )
    }
    const inactivity =
      options.inactivityTimeoutMs === undefined
        ? DEFAULT_INACTIVITY_TIMEOUT_MS
        : options.inactivityTimeoutMs
    if (inactivity !== null && !(inactivity > 0 && inactivity <= MAX_TIMER_MS)) {
      throw new RangeError(
        `inactivityTimeoutMs must be a positive number of milliseconds or null, got ${inactivity}.`,
      )
    }
    this.#inactivityTimeoutMs = inactivity
    this.#withCredentials = options.withCredentials ?? false
    const fetch = options.fetch ?? globalThis.fetch
    if (typeof fetch !== 'function') {
      throw new TypeError('No global fetch here: pass one as the fetch option.')
    }
    this.#fetch = fetch
    this.#headers = options.headers
    this.#backoff = createBackoff({
      baseMs: options.initialRetryMs ?? DEFAULT_RETRY_MS,
      maxMs: options.maxRetryMs ?? DEFAULT_MAX_RETRY_MS,
      healthyAfterMs: options.healthyAfterMs ?? DEFAULT_HEALTHY_AFTER_MS,
      jitter: options.jitter ?? true,
    })
    this.#parser = createParser({
      lastEventId,
      onEvent: (message) => this.#dispatchMessage(message),
      // A `retry:` of hundreds of digits parses as Infinity; the timer needs a finite delay.
      onRetry: (ms) => {
        this.#backoff.baseMs = Math.min(ms, MAX_TIMER_MS)
      },
      onError: (error) => this.#fail(error.code as SseClientErrorCode, error.message),
    })
    this.#signal = options.signal
    if (this.#signal?.aborted) {
      this.#readyState = CLOSED
      return
    }
    this.#signal?.addEventListener('abort', this.#onAbort)
    this.#connect()
  }

  /** `CONNECTING` (0), `OPEN` (1) or `CLOSED` (2). */
  get readyState(): ReadyState {
    return this.#readyState
  }

  /** The URL connected to, absolute, with any selectors added (before redirects). */
  get url(): string {
    return this.#url.href
  }

  /** Whether cross-origin requests carry credentials (the `withCredentials` option). */
  get withCredentials(): boolean {
    return this.#withCredentials
  }

  /**
   * The last event ID string: the `lastEventId` option, then the id of the last event received.
   * The next (re)connection sends it as `Last-Event-ID`; a new client given it resumes there.
   */
  get lastEventId(): string {
    return this.#parser.lastEventId
  }

  /**
   * Aborts the connection or the pending reconnection and sets readyState to `CLOSED`: no event
   * of any kind follows, and `for await` loops finish once they have taken what had arrived.
   * Calling it again does nothing.
   */
  close(): void {
    this.#shutDown()
  }

  /**
   * Every server event (`message` and the other types, as `MessageEvent`s), in order, until the
   * client closes, by `close()` or by giving up (listen for `error` to learn why). Each loop gets
   * every event from the moment it starts. Leaving a loop early (`break`) detaches it and leaves
   * the client running; call `close()` to stop. While a loop holds 1024 unprocessed events, the
   * client stops reading the stream until it catches up.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<MessageEvent<string>> {
    const queue = new MessageQueue<MessageEvent<string>>(
      (detached) => {
        this.#queues.delete(detached)
        this.#checkDrained()
      },
      () => this.#checkDrained(),
    )
    if (this.#readyState === CLOSED) queue.end()
    else this.#queues.add(queue)
    return queue
  }

  #onAbort = (): void => this.close()

  #connect(): void {
    this.#reconnectTimer = undefined
    const timeoutMs = this.#inactivityTimeoutMs
    // The watchdog covers the whole attempt, the headers callback and the wait for a response
    // included: a hub that accepts and never answers is as dead as a silent stream.
    const connection: Connection = {
      controller: new AbortController(),
      watchdog:
        timeoutMs === null
          ? null
          : createWatchdog(timeoutMs, () =>
              this.#lost(connection, 'inactivity-timeout', `Nothing arrived for ${timeoutMs} ms.`),
            ),
      reader: null,
      gapTold: false,
    }
    this.#connection = connection
    void this.#run(connection)
  }

  /** One connection attempt, from headers to the end of the body. Never throws. */
  async #run(connection: Connection): Promise<void> {
    const requestedId = this.#parser.lastEventId
    let headers: Headers
    try {
      headers = await this.#requestHeaders(requestedId)
    } catch (error) {
      this.#lost(connection, 'headers-failed', `The headers callback failed: ${describe(error)}`)
      return
    }
    if (this.#connection !== connection) return
    let response: Response
    try {
      const fetch = this.#fetch // called unbound: browsers reject a fetch called on another object
      response = await fetch(this.#url, {
        headers,
        // [spec] cache mode "no-store", credentials "same-origin" unless withCredentials.
        cache: 'no-store',
        credentials: this.#withCredentials ? 'include' : 'same-origin',
        mode: 'cors',
        redirect: 'follow',
        signal: connection.controller.signal,
      })
    } catch (error) {
      this.#lost(connection, 'network-error', `The request failed: ${describe(error)}`)
      return
    }
    if (this.#connection !== connection) return
    // The response is activity too: the first heartbeat is still a whole interval away.
    connection.watchdog?.touch()
    const { status } = response
    if (status !== 200 || !isEventStream(response.headers.get('content-type'))) {
      // Release the connection even if a stand-in fetch ignores the abort signal.
      response.body?.cancel().catch(noop)
    }
    // [spec] "if res's status is not 200, or if res's `Content-Type` is not `text/event-stream`,
    // then fail the connection." 204 is the standard's way to say "stop reconnecting".
    if (status !== 200) {
      const { code, message } = statusError(status, { lastEventId: requestedId, url: this.#url })
      if (RETRIED_STATUSES.has(status)) {
        const wait = retryAfterMs(response.headers.get('retry-after'))
        this.#lost(connection, code, message, wait, status)
      } else {
        this.#fail(code, message, status)
      }
      return
    }
    if (!isEventStream(response.headers.get('content-type'))) {
      this.#fail('bad-content-type', 'The response is not text/event-stream.', status)
      return
    }
    // [spec] a MessageEvent's origin is "the origin of the event stream's final URL".
    this.#origin = originOf(response.url) ?? this.#url.origin
    this.#parser.reset()
    this.#readyState = OPEN
    this.#backoff.opened()
    this.dispatchEvent(new Event('open'))
    if (this.#connection !== connection) return
    const gap = detectGap(
      requestedId,
      response.headers.get('last-event-id') ?? response.headers.get('mercure-last-event-id'),
    )
    if (gap !== null) {
      this.#tellGap(gap)
      if (this.#connection !== connection) return
    }
    await this.#read(connection, response.body)
  }

  async #read(connection: Connection, body: ReadableStream<Uint8Array> | null): Promise<void> {
    if (body === null) {
      this.#lost(connection, 'stream-ended', 'The response had no body.')
      return
    }
    const reader = body.getReader()
    connection.reader = reader
    try {
      for (;;) {
        const chunk = await reader.read()
        if (this.#connection !== connection) return
        if (chunk.done) break
        const { value } = chunk
        // Every chunk counts as activity, so the hub's heartbeat comments keep the stream alive.
        connection.watchdog?.touch()
        this.#parser.feed(value)
        if (this.#connection !== connection) return
        if (this.#backlogged()) {
          connection.watchdog?.pause()
          await new Promise<void>((resolve) => {
            this.#drained = resolve
          })
          if (this.#connection !== connection) return
          connection.watchdog?.resume()
        }
      }
    } catch (error) {
      this.#lost(connection, 'network-error', `The stream failed: ${describe(error)}`)
      return
    }
    // [spec] "if res is not a network error, then reestablish the connection."
    this.#lost(connection, 'stream-ended', 'The server ended the stream.')
  }

  async #requestHeaders(lastEventId: string): Promise<Headers> {
    const option = this.#headers
    const headers = new Headers(typeof option === 'function' ? await option() : option)
    if (!headers.has('accept')) headers.set('accept', 'text/event-stream')
    headers.delete('last-event-id')
    // [spec] "If the EventSource object's last event ID string is not the empty string, set
    // `Last-Event-ID`/last event ID string, UTF-8 encoded, in request's header list."
    if (lastEventId !== '') headers.set('last-event-id', toHeaderValue(lastEventId))
    return headers
  }

  /**
   * The connection dropped, or was refused for now: reconnect, no sooner than `atLeastMs`, unless
   * the client was closed meanwhile.
   */
  #lost(
    connection: Connection,
    code: SseClientErrorCode,
    message: string,
    atLeastMs = 0,
    status?: number,
  ): void {
    if (this.#connection !== connection) return
    this.#detach(connection)
    this.#reestablish(code, message, atLeastMs, status)
  }

  /** [spec] "reestablish the connection": CONNECTING, an `error` event, then wait and reconnect. */
  #reestablish(code: SseClientErrorCode, message: string, atLeastMs = 0, status?: number): void {
    if (this.#readyState === CLOSED) return
    this.#readyState = CONNECTING
    this.dispatchEvent(new SseErrorEvent({ code, message, status }))
    // A listener may have closed the client (read through the getter: TS narrowed the field).
    if (this.readyState === CLOSED) return
    const delay = Math.max(atLeastMs, this.#backoff.next())
    this.#reconnectTimer = setTimeout(() => this.#connect(), delay)
  }

  /** [spec] "fail the connection": CLOSED, one `error` event, and no reconnection. */
  #fail(code: SseClientErrorCode, message: string, status?: number): void {
    if (this.#readyState === CLOSED) return
    const queues = [...this.#queues]
    this.#shutDown(false)
    this.dispatchEvent(new SseErrorEvent({ code, message, status }))
    for (const queue of queues) queue.end()
  }

  #shutDown(endQueues = true): void {
    this.#readyState = CLOSED
    const connection = this.#connection
    if (connection !== null) this.#detach(connection)
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    this.#signal?.removeEventListener('abort', this.#onAbort)
    if (endQueues) for (const queue of this.#queues) queue.end()
    this.#queues.clear()
    this.#checkDrained()
  }

  /** Forgets the connection first (so what follows its abort is ignored as stale), then aborts it. */
  #detach(connection: Connection): void {
    this.#connection = null
    connection.watchdog?.stop()
    connection.controller.abort()
    // Also ends a pending read at once, even from a stand-in fetch that ignores the signal.
    connection.reader?.cancel().catch(noop)
  }

  #dispatchMessage(message: SseMessage): void {
    // [spec] "If the readyState attribute is set to CLOSED, abort these steps."
    if (this.#readyState === CLOSED) return
    // Publishers cannot send `event: mercure` ([spec] draft-08 §Active subscriptions), so the
    // signal cannot be forged; other `mercure` events (subscription events) are dispatched.
    if (this.#gapSignal && message.type === 'mercure') {
      const gap = readGapBlock(message.data, message.lastEventId)
      if (gap !== null) {
        this.#tellGap(gap)
        return
      }
    }
    const event = new MessageEvent(message.type, {
      data: message.data,
      lastEventId: message.lastEventId,
      origin: this.#origin,
    })
    this.dispatchEvent(event)
    for (const queue of this.#queues) queue.push(event)
  }

  /** Fires `gap`, once per connection: the response header and the in-stream signal may both tell. */
  #tellGap(gap: GapInit): void {
    const connection = this.#connection
    if (connection === null || connection.gapTold) return
    connection.gapTold = true
    this.dispatchEvent(new SseGapEvent(gap))
  }

  #backlogged(): boolean {
    for (const queue of this.#queues) if (queue.backlogged) return true
    return false
  }

  #checkDrained(): void {
    const drained = this.#drained
    if (drained === null || this.#backlogged()) return
    this.#drained = null
    drained()
  }
}

/**
 * Creates an {@link SseClient}: the factory form of `new SseClient(url, options)`.
 *
 * @throws {SyntaxError} when `url` is not a valid URL (relative outside a browser).
 * @throws {TypeError} when `lastEventId` contains CR, LF or NUL, when `topics` are mixed with
 *   `match` or `matchUrlPattern`, or when a Mercure 1.0 URL carries a token.
 * @throws {RangeError} when a duration option is negative or not a number.
 */
export function createClient(url: string | URL, options?: SseClientOptions): SseClient {
  return new SseClient(url, options)
}

function noop(): void {}

function originOf(url: string): string | null {
  if (url === '') return null
  try {
    return new URL(url).origin
  } catch {
    return null
  }
}

/** An error's message, never its stack or `cause` (which may quote a header). */
function describe(error: unknown): string {
  if (error instanceof Error) {
    // undici says only "fetch failed"; the reason (ECONNREFUSED…) is in its cause.
    const cause = (error as { cause?: { code?: unknown } }).cause?.code
    return typeof cause === 'string' ? `${error.message} (${cause})` : error.message
  }
  return String(error)
}

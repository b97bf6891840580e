import type { SseErrorEvent } from './error-event.ts'
import type { SseGapEvent } from './gap.ts'

/** The events of an {@link SseClient}, by name. Other names carry server events of that `event:` type. */
export interface SseClientEvents {
  /** The connection is open (readyState `OPEN`): after the first connection and each reconnection. */
  open: Event
  /** An event without an `event:` field (or with `event: message`). */
  message: MessageEvent<string>
  /** A reconnection is coming (readyState `CONNECTING`) or the client gave up (`CLOSED`). */
  error: SseErrorEvent
  /** The hub could not resume from the id the client sent: updates were missed, refetch. */
  gap: SseGapEvent
  /**
   * A hub event of type `mercure`: a Mercure 1.0 subscription event (JSON with `type:
   * "subscription"`, `subscriber`, `match`, `match_type`, `active`, `payload`), as `EventSource`
   * would dispatch it. `onmessage` never sees it.
   */
  mercure: MessageEvent<string>
}

/** A listener for event `E`, called with its target `T` as `this`. */
export type SseListener<E, T = EventTarget> = (this: T, event: E) => unknown

type Handler = 'open' | 'message' | 'error' | 'gap'

/**
 * The `EventSource`-shaped event surface of {@link SseClient}: `onopen`, `onmessage`, `onerror`,
 * `ongap`, and `addEventListener`/`removeEventListener` typed by {@link SseClientEvents}. Kept
 * apart from the connection so that anything relaying a client's events (a tab fed by another
 * tab's connection, say) can present the same surface by extending it.
 */
export class SseEventTarget extends EventTarget {
  /** The connection is being made, or a reconnection is waiting. */
  static readonly CONNECTING = 0
  /** The connection is open and events are arriving. */
  static readonly OPEN = 1
  /** Closed by `close()`, or given up: no more events. */
  static readonly CLOSED = 2
  /** The connection is being made, or a reconnection is waiting. */
  readonly CONNECTING = 0
  /** The connection is open and events are arriving. */
  readonly OPEN = 1
  /** Closed by `close()`, or given up: no more events. */
  readonly CLOSED = 2

  readonly #handlers: Record<Handler, EventListener | null> = {
    open: null,
    message: null,
    error: null,
    gap: null,
  }

  /** The `open` handler, alongside those added with `addEventListener`. Defaults to `null`. */
  get onopen(): SseListener<Event, this> | null {
    return this.#handler('open')
  }
  set onopen(handler: SseListener<Event, this> | null) {
    this.#setHandler('open', handler)
  }

  /** The `message` handler (events without an `event:` type). Defaults to `null`. */
  get onmessage(): SseListener<MessageEvent<string>, this> | null {
    return this.#handler('message')
  }
  set onmessage(handler: SseListener<MessageEvent<string>, this> | null) {
    this.#setHandler('message', handler)
  }

  /** The `error` handler. Defaults to `null`. */
  get onerror(): SseListener<SseErrorEvent, this> | null {
    return this.#handler('error')
  }
  set onerror(handler: SseListener<SseErrorEvent, this> | null) {
    this.#setHandler('error', handler)
  }

  /** The `gap` handler. Defaults to `null`. */
  get ongap(): SseListener<SseGapEvent, this> | null {
    return this.#handler('gap')
  }
  set ongap(handler: SseListener<SseGapEvent, this> | null) {
    this.#setHandler('gap', handler)
  }

  /** Listens for one of the client's own events, with its event type. */
  override addEventListener<K extends keyof SseClientEvents>(
    type: K,
    listener: SseListener<SseClientEvents[K], this> | null,
    options?: boolean | AddEventListenerOptions,
  ): void
  /**
   * Listens for server events of type `type` (the `event:` field). One function type (no
   * `EventListener` union), so an inline listener gets `MessageEvent<string>` as its parameter.
   */
  override addEventListener(
    type: string,
    listener: SseListener<MessageEvent<string>, this> | EventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void
  override addEventListener(
    type: string,
    listener: SseListener<never, this> | EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options)
  }

  /** Removes a listener added with {@link SseEventTarget.addEventListener}. */
  override removeEventListener<K extends keyof SseClientEvents>(
    type: K,
    listener: SseListener<SseClientEvents[K], this> | null,
    options?: boolean | EventListenerOptions,
  ): void
  /** Removes a listener for server events of type `type`. */
  override removeEventListener(
    type: string,
    listener: SseListener<MessageEvent<string>, this> | EventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void
  override removeEventListener(
    type: string,
    listener: SseListener<never, this> | EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options)
  }

  #handler<L>(type: Handler): L | null {
    return this.#handlers[type] as L | null
  }

  /** As for `EventSource`: one handler per name, beside the listeners; a non-function clears it. */
  #setHandler(type: Handler, handler: unknown): void {
    const old = this.#handlers[type]
    if (old !== null) super.removeEventListener(type, old)
    const next = typeof handler === 'function' ? (handler as EventListener) : null
    if (next !== null) super.addEventListener(type, next)
    this.#handlers[type] = next
  }
}

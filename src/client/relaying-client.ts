import type { SseClientOptions } from './client-options.ts'
import { SseErrorEvent } from './error-event.ts'
import { SseGapEvent } from './gap.ts'
import type { ConnectionMessage } from './relay-message.ts'
import { SseClient } from './sse-client.ts'

/**
 * An {@link SseClient} that hands every event it fires to `emit` as a message a tab can post to
 * the others, instead of dispatching it. It taps `dispatchEvent`, through which the client fires
 * everything (open, error, gap and server events of any type) synchronously and in order: an
 * async iterator would miss that order (its messages arrive a microtask late, after a following
 * error), and listeners cannot catch server event types nobody named.
 */
export class RelayingClient extends SseClient {
  readonly #emit: (message: ConnectionMessage) => void
  /** The id of the previous event, to tell an event with its own `id:` from one without. */
  #previousId: string

  /** Connects to `url` (which already holds the topics) from `options.lastEventId`. */
  constructor(
    url: string | URL,
    options: SseClientOptions,
    emit: (message: ConnectionMessage) => void,
  ) {
    // SseClient fires nothing before its constructor returns (the connection starts on a
    // microtask), so these fields are set before the first event.
    super(url, options)
    this.#emit = emit
    this.#previousId = options.lastEventId ?? ''
  }

  override dispatchEvent(event: Event): boolean {
    if (event instanceof MessageEvent) {
      const id = event.lastEventId
      const fresh = id !== this.#previousId
      this.#previousId = id
      this.#emit({
        kind: 'event',
        type: event.type,
        data: String(event.data),
        id,
        origin: event.origin,
        fresh,
      })
    } else if (event instanceof SseErrorEvent) {
      const { code, message, status } = event
      this.#emit({ kind: 'error', code, message, status, readyState: this.readyState })
    } else if (event instanceof SseGapEvent) {
      const { requestedId, hubLastEventId } = event
      this.#emit({ kind: 'gap', requestedId, hubLastEventId })
    } else {
      this.#emit({ kind: 'open' })
    }
    return true
  }
}

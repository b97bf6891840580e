import type {
  EventStream,
  EventStreamCloseHandler,
  EventStreamCloseReason,
} from '../core/event-stream.ts'
import type { StoredUpdate } from './update.ts'

/** What a subscriber is allowed, from its token (or nothing, for an anonymous subscriber). */
export interface SubscriberClaims {
  /** `mercure.subscribe`: selectors of the private updates it may receive. */
  readonly subscribe?: readonly string[] | undefined
  /** `mercure.payload`: arbitrary JSON attached to its subscriptions. */
  readonly payload?: unknown
}

/** Answers whether a selector matches a topic (see `topic-selector.ts`). */
export type TopicMatcher = (selector: string, topic: string) => boolean

/**
 * One subscriber connection: its selectors, its claims, its stream, and while history is being
 * replayed the live updates held back so they follow the history, in order, with none twice.
 */
export class Subscriber implements EventStreamCloseHandler {
  /** The `topic` selectors it asked for. */
  readonly selectors: readonly string[]
  /** Its claims, or `null` when anonymous. */
  readonly claims: SubscriberClaims | null
  /** Where its events go. */
  readonly stream: EventStream
  /** When its token expires (ms since the epoch), if it does. */
  readonly expiresAt: number | undefined
  #id: string | undefined
  readonly #onClose: ((subscriber: Subscriber, reason: EventStreamCloseReason) => void) | undefined
  /** Live updates that arrived while history was replayed; `null` once live. */
  #held: Uint8Array[] | null = []
  #heldBytes = 0
  readonly #maxHeldBytes: number

  constructor(
    init: {
      /** Its IRI; defaults to a new `urn:uuid:…`, made when first asked for. */
      id?: string | undefined
      selectors: readonly string[]
      claims: SubscriberClaims | null
      stream: EventStream
      expiresAt?: number | undefined
      /**
       * Called once when its stream closes (when the subscriber is registered as the stream's
       * close handler): one function for every subscriber, rather than a closure each.
       */
      onClose?: ((subscriber: Subscriber, reason: EventStreamCloseReason) => void) | undefined
    },
    maxHeldBytes: number,
  ) {
    this.#id = init.id
    // An exact-size copy: the array `URLSearchParams.getAll` returns reserves room for 17.
    this.selectors = init.selectors.slice()
    this.claims = init.claims
    this.stream = init.stream
    this.expiresAt = init.expiresAt
    this.#maxHeldBytes = maxHeldBytes
    this.#onClose = init.onClose
  }

  /** Its stream closed: passes it on to the `onClose` it was made with. */
  handleClose(reason: EventStreamCloseReason): void {
    this.#onClose?.(this, reason)
  }

  /** Hub-generated IRI, the same for all subscriptions of this connection (`urn:uuid:…`). */
  get id(): string {
    // Made on first use: only subscription events and the subscriptions API need it, and an idle
    // connection should not hold a string it never sends.
    this.#id ??= newSubscriberId()
    return this.#id
  }

  /** Whether it may receive `update`: public, or private with a `mercure.subscribe` selector matching one of its topics. */
  mayReceive(update: StoredUpdate, matches: TopicMatcher): boolean {
    if (!update.private) return true
    const allowed = this.claims?.subscribe
    if (allowed === undefined || allowed.length === 0) return false
    // [spec] "must match at least one topic of the update, canonical or alternate". The `topic`
    // query parameters only route; they never grant private access.
    for (const selector of allowed) {
      for (const topic of update.topics) if (matches(selector, topic)) return true
    }
    return false
  }

  /** Whether one of its selectors matches one of the update's topics (used on replay). */
  wants(update: StoredUpdate, matches: TopicMatcher): boolean {
    for (const selector of this.selectors) {
      for (const topic of update.topics) if (matches(selector, topic)) return true
    }
    return false
  }

  /** Sends a live update, or holds it while history is still being replayed. */
  deliver(bytes: Uint8Array): void {
    const held = this.#held
    if (held === null) {
      this.stream.write(bytes)
      return
    }
    held.push(bytes)
    this.#heldBytes += bytes.byteLength
    // DoS guard: a replay that cannot keep up must not hold live updates without limit.
    if (this.#heldBytes > this.#maxHeldBytes) this.stream.close('overflow')
  }

  /**
   * Ends the replay: writes the held live updates after the history and switches to live
   * delivery. The held updates all come after the history's end (the hub registers the subscriber
   * and reads the store's head in one synchronous step), so none is sent twice.
   */
  goLive(): void {
    const held = this.#held
    this.#held = null
    this.#heldBytes = 0
    if (held === null) return
    for (const bytes of held) this.stream.write(bytes)
  }
}

/**
 * A new `urn:uuid:` IRI as one flat string. `crypto.randomUUID()` returns (in V8) a tree of about
 * 20 concatenations, 32 bytes each, that stays a tree for as long as the string lives; joining
 * copies it into one sequential string of 64 bytes.
 */
function newSubscriberId(): string {
  return ['urn:uuid:', crypto.randomUUID()].join('')
}

import type {
  EventStream,
  EventStreamCloseHandler,
  EventStreamCloseReason,
} from '../core/event-stream.ts'
import type { SubscriptionTally } from './subscription-limits.ts'
import type { StoredUpdate } from './update.ts'

/** A Mercure 1.0 `subscribe` detail's grants and payload: see `MercureClaims.subscribePayloads`. */
export interface SubscribePayload {
  readonly selectors: readonly string[]
  readonly payload: unknown
}

/** What a subscriber is allowed, from its token (or nothing, for an anonymous subscriber). */
export interface SubscriberClaims {
  /** `mercure.subscribe`: selectors of the private updates it may receive. */
  readonly subscribe?: readonly string[] | undefined
  /** `mercure.payload`: arbitrary JSON attached to its subscriptions. */
  readonly payload?: unknown
  /**
   * Mercure 1.0: each `subscribe` detail's selectors and payload, in the token's order (see
   * `MercureClaims.subscribePayloads`); a subscription's payload is the first whose selectors
   * match its own matcher value.
   */
  readonly subscribePayloads?: readonly SubscribePayload[] | undefined
}

/**
 * Whether a topic selector matches a topic (Mercure draft-07 §Topic selectors: `*`, exact
 * equality, then URI Template; see `topic-selector.ts`). Passed in, so the rules that take one
 * (who may publish, who may receive) stay independent of the matcher.
 */
export type TopicMatcher = (selector: string, topic: string) => boolean

/**
 * One subscriber connection: its selectors, its claims, its stream, and where it stands in the
 * history. It is either live (updates are written as they are dispatched) or catching up (the
 * hub reads the history after its cursor, at the client's pace, and dispatched updates are left
 * to that read: the history has them). No live update is ever held in memory for it.
 */
export class Subscriber implements EventStreamCloseHandler {
  /** The protocol it speaks: the shape of its subscription events and API entries. */
  readonly protocol: '0.x' | '1.0'
  /**
   * The selectors it asked for: `topic` parameters (0.x), or `match*` parameters written as
   * selectors (1.0, see `mercure-matcher.ts`).
   */
  readonly selectors: readonly string[]
  /** Its claims, or `null` when anonymous. */
  readonly claims: SubscriberClaims | null
  /** Where its events go. */
  readonly stream: EventStream
  /** When its token expires (ms since the epoch), if it does. */
  readonly expiresAt: number | undefined
  /** What it counts against in the hub's per-client caps, if anything. */
  readonly tally: SubscriptionTally | undefined
  #id: string | undefined
  readonly #onClose: ((subscriber: Subscriber, reason: EventStreamCloseReason) => void) | undefined
  readonly #onBehind: ((subscriber: Subscriber) => void) | undefined
  #live = false
  #cursor: string | null = null
  #cursorId: string | undefined

  constructor(init: {
    /** Its IRI; defaults to a new `urn:uuid:…`, made when first asked for. */
    id?: string | undefined
    /** Defaults to `'0.x'`. */
    protocol?: '0.x' | '1.0' | undefined
    selectors: readonly string[]
    claims: SubscriberClaims | null
    stream: EventStream
    expiresAt?: number | undefined
    /** What it counts against in the hub's per-client caps (given back when it closes). */
    tally?: SubscriptionTally | undefined
    /**
     * Called once when its stream closes (when the subscriber is registered as the stream's
     * close handler): one function for every subscriber, rather than a closure each.
     */
    onClose?: ((subscriber: Subscriber, reason: EventStreamCloseReason) => void) | undefined
    /**
     * Called when a live update would make its stream hold more than half its `maxQueueBytes`:
     * it has stopped taking live updates and must catch up from the history after
     * {@link cursor}. One function for every subscriber.
     */
    onBehind?: ((subscriber: Subscriber) => void) | undefined
  }) {
    this.#id = init.id
    this.protocol = init.protocol ?? '0.x'
    // An exact-size copy: the array `URLSearchParams.getAll` returns reserves room for 17.
    this.selectors = init.selectors.slice()
    this.claims = init.claims
    this.stream = init.stream
    this.expiresAt = init.expiresAt
    this.tally = init.tally
    this.#onClose = init.onClose
    this.#onBehind = init.onBehind
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

  /** Whether live updates are written as they are dispatched (else it is catching up). */
  get live(): boolean {
    return this.#live
  }

  /**
   * The cursor of the last update it was given or read past, or `null` for "before the oldest
   * retained update": a catch-up reads the history after it.
   */
  get cursor(): string | null {
    return this.#cursor
  }

  /** The id of the update at {@link cursor}, when known: tells whether it is still retained. */
  get cursorId(): string | undefined {
    return this.#cursorId
  }

  /** Sets where it stands in the history (at registration, and as a catch-up reads). */
  moveTo(cursor: string | null, id: string | undefined): void {
    this.#cursor = cursor
    this.#cursorId = id
  }

  /**
   * Writes a live update (its bytes encoded once for every subscriber), or leaves it to the
   * catch-up. A client that reads is never cut for the size of a burst: once what its stream
   * holds would pass half its `maxQueueBytes`, it stops taking live updates and catches up from
   * the history at its own pace (the stream's own bound, on what the client failed to take, is
   * then never reached by live updates). Half, so that heartbeats and the update in hand fit.
   * A lone update larger than that still goes when nothing waits before it.
   */
  deliver(update: StoredUpdate, bytes: Uint8Array): boolean {
    if (!this.#live) return false
    const stream = this.stream
    const queued = stream.queuedBytes
    if ((queued > 0 || stream.paused) && queued + bytes.byteLength > stream.maxQueueBytes / 2) {
      this.#live = false
      this.#onBehind?.(this)
      return false
    }
    stream.write(bytes)
    this.#cursor = update.cursor
    this.#cursorId = update.id
    return true
  }

  /**
   * Switches to live delivery. The caller does it in the same synchronous step in which it saw
   * that {@link cursor} is the store's head: every later update is dispatched after this, so
   * none is missed and none is sent twice.
   */
  goLive(): void {
    this.#live = true
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

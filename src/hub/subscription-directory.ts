/** A connected subscriber, as the directory records it: its id, selectors and token payload. */
export interface DirectorySubscriber {
  /** The subscriber's IRI (`urn:uuid:…`), the same for all its subscriptions. */
  readonly id: string
  /** Its `topic` selectors: one subscription each. */
  readonly selectors: readonly string[]
  /** Its claims; only `payload` is kept (`mercure.payload`, shown by the subscriptions API). */
  readonly claims: { readonly payload?: unknown } | null
}

/** One active subscription, as the subscriptions API lists it. */
export interface ActiveSubscription {
  /** The subscriber's IRI. */
  readonly subscriber: string
  /** The topic selector. */
  readonly topic: string
  /** The subscriber's `mercure.payload`, when its token had one. */
  readonly payload?: unknown
}

/**
 * Where the active subscriptions are listed, for the subscriptions API: an optional capability
 * of a store (mercure's `TransportSubscribers`). A store shared by several hub nodes implements
 * it so that the API lists every node's subscribers; without it the hub lists its own, from its
 * set of connected subscribers.
 *
 * Ordering contract: a change made by `addSubscriber`/`deleteSubscriber` is visible to
 * `listSubscriptions` (on every node) before any update this node appends to the store after it.
 * The hub records a subscriber before it publishes the subscription event, so a client that
 * lists the subscriptions and then subscribes from the returned `lastEventID` misses no change.
 */
export interface SubscriptionDirectory {
  /** Records a subscriber connected to this node. Never throws: failures are retried later. */
  addSubscriber(subscriber: DirectorySubscriber): void
  /** Forgets a subscriber of this node once it disconnected. Never throws. */
  deleteSubscriber(subscriber: DirectorySubscriber): void
  /** Every active subscription, on every node sharing the directory. */
  listSubscriptions(): Promise<ActiveSubscription[]>
}

/** Whether `value` (typically an `EventStore`) also implements {@link SubscriptionDirectory}. */
export function isSubscriptionDirectory(value: object): value is SubscriptionDirectory {
  const candidate = value as Partial<Record<keyof SubscriptionDirectory, unknown>>
  return (
    typeof candidate.addSubscriber === 'function' &&
    typeof candidate.deleteSubscriber === 'function' &&
    typeof candidate.listSubscriptions === 'function'
  )
}

/** The subscriptions of one subscriber, as every directory lists them. */
export function subscriptionsOf(subscriber: DirectorySubscriber): ActiveSubscription[] {
  const payload = subscriber.claims?.payload
  return subscriber.selectors.map((topic) =>
    payload === undefined
      ? { subscriber: subscriber.id, topic }
      : { subscriber: subscriber.id, topic, payload },
  )
}

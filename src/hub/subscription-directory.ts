import type { SubscriberClaims, TopicMatcher } from './subscriber.ts'
import { subscriptionPayload } from './subscription-payload.ts'
import { createSelectorMatcher, type SelectorMatcher } from './topic-selector.ts'

/** A connected subscriber, as the directory records it: its id, selectors and token payloads. */
export interface DirectorySubscriber {
  /** The subscriber's IRI (`urn:uuid:…`), the same for all its subscriptions. */
  readonly id: string
  /**
   * Its selectors: `topic` parameters (0.x) or `match*` parameters written as selectors (1.0, see
   * `mercure-matcher.ts`). One subscription each.
   */
  readonly selectors: readonly string[]
  /**
   * What of its claims its subscriptions show: `payload` (`mercure.payload`, 0.x) and
   * `subscribePayloads` (1.0: each `subscribe` detail's selectors and payload, see
   * `subscription-payload.ts`). A directory that stores subscribers elsewhere keeps both.
   */
  readonly claims: Pick<SubscriberClaims, 'payload' | 'subscribePayloads'> | null
}

/** One active subscription, as the subscriptions API lists it. */
export interface ActiveSubscription {
  /** The subscriber's IRI. */
  readonly subscriber: string
  /** The selector, as the subscriber's `topic` or `match*` parameter made it (see `describeSelector`). */
  readonly topic: string
  /** The subscription's payload (see `subscriptionPayload`), when its token gave it one. */
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
 * lists the subscriptions and then subscribes from the returned cursor (0.x: `lastEventID`; 1.0:
 * the `Link` header's `last-event-id`) misses no change.
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

/**
 * The subscriptions of one subscriber, as every directory lists them: its first `count`
 * selectors (defaults to all), each with its payload. `matches` picks a 1.0 subscription's
 * payload (see `subscriptionPayload`); the hub passes its own. Defaults to a matcher of this
 * module's, with a small cache: a selector means the same to every matcher (a URL pattern's
 * carries its hub URL), so a directory without the hub's matcher lists the same.
 */
export function subscriptionsOf(
  subscriber: DirectorySubscriber,
  matches: TopicMatcher = fallbackMatches,
  count = subscriber.selectors.length,
): ActiveSubscription[] {
  const { id, selectors } = subscriber
  const subscriptions: ActiveSubscription[] = []
  for (let i = 0; i < Math.min(count, selectors.length); i++) {
    const topic = selectors[i] as string
    const payload = payloadOf(subscriber, i, matches)
    subscriptions.push(
      payload === undefined ? { subscriber: id, topic } : { subscriber: id, topic, payload },
    )
  }
  return subscriptions
}

/**
 * The payloads of 1.0 subscribers' subscriptions, by selector: picked once per connection (its
 * joining, leaving and every listing would otherwise match each `subscribe` detail again), kept
 * only while the subscriber is.
 */
const picked = new WeakMap<DirectorySubscriber, readonly unknown[]>()

function payloadOf(subscriber: DirectorySubscriber, i: number, matches: TopicMatcher): unknown {
  const { claims } = subscriber
  if (claims?.subscribePayloads === undefined) return claims?.payload
  let payloads = picked.get(subscriber)
  if (payloads === undefined) {
    payloads = subscriber.selectors.map((selector) =>
      subscriptionPayload(claims, selector, matches),
    )
    picked.set(subscriber, payloads)
  }
  return payloads[i]
}

let fallback: SelectorMatcher | undefined
const fallbackMatches: TopicMatcher = (selector, topic) => {
  fallback ??= createSelectorMatcher({ cacheSize: 256 })
  return fallback.matches(selector, topic)
}

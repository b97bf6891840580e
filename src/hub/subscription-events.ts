import { describeSelector } from './mercure-matcher.ts'
import type { ActiveSubscription } from './subscription-directory.ts'
import type { Update } from './update.ts'

/** The JSON-LD context of subscription documents (Mercure draft-07 §Active subscriptions). */
export const MERCURE_CONTEXT = 'https://mercure.rocks/'

/**
 * The path of the hub, as `HUB_PATH` in `src/http/mercure-protocol.ts` (the hub imports no HTTP
 * module): subscription topics and the subscriptions API live under it.
 */
export const HUB_PATH = '/.well-known/mercure'

/** The path under which subscriptions are published and listed. */
export const SUBSCRIPTIONS_PATH = `${HUB_PATH}/subscriptions`

/**
 * Percent-encodes a whole value as one path segment: every character outside the unreserved
 * `A-Za-z0-9-._~` becomes `%XX` of its UTF-8 bytes, `%` included. So `:`, `/`, `{` and `}` in a
 * selector or subscriber IRI cannot change the path's shape, and decoding the segment once gives
 * the value back ([spec] 1.0: "percent-encoded exactly once").
 */
export function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

/**
 * The topic (and JSON-LD `id`) of one subscription, whose 0.x subscription events (Mercure's
 * presence) are published to it: `/.well-known/mercure/subscriptions/{topic}/{subscriber}`, each
 * segment percent-encoded. `{topic}` is the selector's value as the subscriber sent it: a 1.0
 * subscription's matcher value (a URL pattern's text), without its type. Its prefix up to the
 * subscriber, with `{/subscriber}` after it, is the selector of every subscription to `selector`.
 */
export function subscriptionTopic(selector: string, subscriberId: string): string {
  const { match } = describeSelector(selector)
  return `${SUBSCRIPTIONS_PATH}/${encodeSegment(match)}/${encodeSegment(subscriberId)}`
}

/** The JSON-LD document of one subscription, fields in the reference hub's order. */
export function subscriptionDocument(
  subscription: ActiveSubscription,
  active: boolean,
  withContext = true,
): Record<string, unknown> {
  const { subscriber, topic: selector, payload } = subscription
  const document: Record<string, unknown> = {}
  if (withContext) document['@context'] = MERCURE_CONTEXT
  document['id'] = subscriptionTopic(selector, subscriber)
  document['type'] = 'Subscription'
  document['subscriber'] = subscriber
  document['topic'] = describeSelector(selector).match
  document['active'] = active
  if (payload !== undefined) document['payload'] = payload
  return document
}

/**
 * The 0.x subscription event of one subscription: [spec] "The update MUST be private", its topic
 * the subscription's IRI, its data the JSON-LD document. Its id is `#<uuid>`, which no publisher
 * may use: each recipient gets it with a suffix of its own (see `subscription-announcer.ts`). It
 * is sent live, never stored in the history.
 */
export function subscriptionUpdate(subscription: ActiveSubscription, active: boolean): Update {
  return {
    id: `#${crypto.randomUUID()}`,
    topics: [subscriptionTopic(subscription.topic, subscription.subscriber)],
    data: JSON.stringify(subscriptionDocument(subscription, active)),
    private: true,
  }
}

/**
 * Mercure 1.0 subscription events (draft-dunglas-mercure-08 §Active Subscriptions): the topic,
 * the plain JSON document and the update of one subscription, beside the 0.x JSON-LD ones of
 * `subscription-events.ts`. Both describe the same subscriptions; which one a listener gets is
 * its own protocol's (see `subscription-announcer.ts`).
 *
 * @module
 */

import { describeSelector, type Matcher } from './mercure-matcher.ts'
import type { ActiveSubscription } from './subscription-directory.ts'
import { encodeSegment, SUBSCRIPTIONS_PATH } from './subscription-events.ts'
import type { Update } from './update.ts'

/**
 * The SSE `event` type of 1.0 subscription events: [spec] "MUST be dispatched with the `mercure`
 * event type", which publishers cannot set, so no publisher can forge one.
 */
export const SUBSCRIPTION_EVENT_TYPE = 'mercure'

/**
 * The 1.0 matcher of a subscription's selector: a 1.0 subscriber's `exact` or `urlpattern`
 * matcher, and a 0.x subscriber's selector as `exact` (it matches byte for byte, as `exact`
 * does). `*` comes back as `exact` `*` (the selector does not keep which `match*` parameter
 * carried it). `null` for a 0.x selector that may be a URI Template: 1.0 registers no type for
 * templates, so such a subscription has no 1.0 form (no event, no entry in the 1.0 API).
 */
export function subscriptionMatcher(selector: string): Matcher | null {
  const { type, match } = describeSelector(selector)
  return type === 'template' ? null : { type, match }
}

/**
 * The topic (and document `id`) of one subscription, relative as [spec] "the path of the hub URL
 * followed by `/subscriptions/{match_type}/{match}/{subscriber}`" says, each variable "percent-
 * encoded exactly once" as a whole, `match_type` in canonical case.
 */
export function subscriptionTopicV1(matcher: Matcher, subscriberId: string): string {
  return `${SUBSCRIPTIONS_PATH}/${matcher.type}/${encodeSegment(matcher.match)}/${encodeSegment(subscriberId)}`
}

/**
 * The 1.0 document of one subscription ([spec] "a JSON document", no `@context`), members in the
 * reference hub's order: `id` (the topic), `type`, `subscriber`, `match`, `match_type`, `active`,
 * and `payload` when the subscription has one.
 */
export function subscriptionDocumentV1(
  subscription: ActiveSubscription,
  matcher: Matcher,
  active: boolean,
): Record<string, unknown> {
  const { subscriber, payload } = subscription
  const document: Record<string, unknown> = {
    id: subscriptionTopicV1(matcher, subscriber),
    type: 'subscription',
    subscriber,
    match: matcher.match,
    match_type: matcher.type,
    active,
  }
  if (payload !== undefined) document['payload'] = payload
  return document
}

/**
 * The 1.0 subscription event of one subscription ([spec] "The update MUST be private"), or `null`
 * when it has no 1.0 form (see {@link subscriptionMatcher}). Its id is a fresh `#<uuid>`, as the
 * 0.x event's (see `subscriptionUpdate`), and its type `mercure`; a relay may drop the type, so
 * the announcer reads the event's protocol back from its topic (see
 * {@link subscriptionEventProtocol}).
 */
export function subscriptionUpdateV1(
  subscription: ActiveSubscription,
  active: boolean,
): Update | null {
  const matcher = subscriptionMatcher(subscription.topic)
  if (matcher === null) return null
  return {
    id: `#${crypto.randomUUID()}`,
    topics: [subscriptionTopicV1(matcher, subscription.subscriber)],
    data: JSON.stringify(subscriptionDocumentV1(subscription, matcher, active)),
    private: true,
    type: SUBSCRIPTION_EVENT_TYPE,
  }
}

/**
 * Which protocol's subscription event has `topic`: `'1.0'` for three segments under
 * `/.well-known/mercure/subscriptions/` (`{match_type}/{match}/{subscriber}`), `'0.x'` for
 * two (`{topic}/{subscriber}`). Every segment is percent-encoded, so none holds a `/`.
 */
export function subscriptionEventProtocol(topic: string): '0.x' | '1.0' {
  let slashes = 0
  for (let i = SUBSCRIPTIONS_PATH.length; i < topic.length; i++) {
    if (topic.charCodeAt(i) === 0x2f) slashes++
  }
  return topic.startsWith(`${SUBSCRIPTIONS_PATH}/`) && slashes === 3 ? '1.0' : '0.x'
}

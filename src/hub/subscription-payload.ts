import { describeSelector } from './mercure-matcher.ts'
import type { SubscriberClaims, TopicMatcher } from './subscriber.ts'

/**
 * The `payload` shown with one subscription, in its subscription events and in the subscriptions
 * API: `undefined` for none.
 *
 * - A Mercure 1.0 token (its claims carry `subscribePayloads`): [spec] draft-08 §Payloads "the
 *   payload of the first `subscribe` detail whose topics match the subscription's own matcher
 *   string, treated as if it were a topic", `*` matching every subscription. The first matching
 *   detail wins even when it has no payload (the reference hub does the same): an issuer lists
 *   specific matchers before broad ones to give them their own payload.
 * - A 0.x token: `mercure.payload`, the same for every subscription.
 *
 * `selector` is the subscription's selector (see `mercure-matcher.ts`): its matcher value, not
 * the marked selector, is what the details' selectors are tested against.
 */
export function subscriptionPayload(
  claims: Pick<SubscriberClaims, 'payload' | 'subscribePayloads'> | null,
  selector: string,
  matches: TopicMatcher,
): unknown {
  if (claims === null) return undefined
  const details = claims.subscribePayloads
  if (details === undefined) return claims.payload
  const value = describeSelector(selector).match
  for (const detail of details) {
    for (const granted of detail.selectors) if (matches(granted, value)) return detail.payload
  }
  return undefined
}

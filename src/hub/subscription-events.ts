import type { Subscriber } from './subscriber.ts'
import type { Update } from './update.ts'

/** The JSON-LD context of subscription documents (Mercure draft-07 §Active subscriptions). */
export const MERCURE_CONTEXT = 'https://mercure.rocks/'

/** The path under which subscriptions are published and listed. */
export const SUBSCRIPTIONS_PATH = '/.well-known/mercure/subscriptions'

/**
 * Percent-encodes as RFC 6570 simple expansion does: everything but unreserved characters, so
 * `:`, `/`, `{` and `}` in a selector or subscriber IRI cannot change the path's shape.
 */
function encodeSegment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

/**
 * The topic (and JSON-LD `id`) of one subscription, whose subscription events (Mercure's presence)
 * are published to it: `/.well-known/mercure/subscriptions/{selector}/{subscriber}`, each segment
 * percent-encoded. Its prefix up to the subscriber, with `{/subscriber}` after it, is the
 * selector of every subscription to `selector`.
 */
export function subscriptionTopic(selector: string, subscriberId: string): string {
  return `${SUBSCRIPTIONS_PATH}/${encodeSegment(selector)}/${encodeSegment(subscriberId)}`
}

/** The JSON-LD document of one subscription, fields in the reference hub's order. */
export function subscriptionDocument(
  subscriber: Pick<Subscriber, 'id' | 'claims'>,
  selector: string,
  active: boolean,
  withContext = true,
): Record<string, unknown> {
  const document: Record<string, unknown> = {}
  if (withContext) document['@context'] = MERCURE_CONTEXT
  document['id'] = subscriptionTopic(selector, subscriber.id)
  document['type'] = 'Subscription'
  document['subscriber'] = subscriber.id
  document['topic'] = selector
  document['active'] = active
  const payload = subscriber.claims?.payload
  if (payload !== undefined) document['payload'] = payload
  return document
}

/**
 * The subscription event for one selector of a subscriber: [spec] "The update MUST be private",
 * its topic the subscription's IRI, its data the JSON-LD document. Its id is `#<uuid>`, which no
 * publisher may use: each recipient gets it with a suffix of its own (see
 * `subscription-announcer.ts`). It is sent live, never stored in the history.
 */
export function subscriptionUpdate(
  subscriber: Pick<Subscriber, 'id' | 'claims'>,
  selector: string,
  active: boolean,
): Update {
  const topic = subscriptionTopic(selector, subscriber.id)
  return {
    id: `#${crypto.randomUUID()}`,
    topics: [topic],
    data: JSON.stringify(subscriptionDocument(subscriber, selector, active)),
    private: true,
  }
}

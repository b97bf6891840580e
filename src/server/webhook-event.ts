import { randomUUID } from 'node:crypto'
import {
  createSelectorMatcher,
  describeSelector,
  type LostSubscriber,
  type Subscriber,
  type SubscriberClaims,
  subscriptionPayload,
} from '../hub/index.ts'
import type { EventStreamCloseReason } from '../index.ts'

/**
 * The events a webhook URL may select (in its fragment): `subscribe`, `unsubscribe` (a subscriber
 * of this node left), and `node-lost` (the `unsubscribe` events of a lost cluster node's
 * subscribers, sent by the node that noticed).
 */
export const WEBHOOK_EVENT_KINDS = ['subscribe', 'unsubscribe', 'node-lost'] as const

/** One of {@link WEBHOOK_EVENT_KINDS}. */
export type WebhookEventKind = (typeof WEBHOOK_EVENT_KINDS)[number]

/** Why a subscriber left: its stream's close reason, or `'node-lost'`. */
export type UnsubscribeReason = EventStreamCloseReason | 'node-lost'

/** One selector of a subscription, as the client sent it. */
export interface WebhookSelector {
  /** `exact`, `template` (a 0.x URI template) or `urlpattern` (Mercure 1.0). */
  readonly type: string
  /** Its value: a topic, a URI template or a URL pattern. */
  readonly match: string
}

/** The JSON body of one webhook request: one subscriber connection joining or leaving. */
export interface WebhookEvent {
  /** Unique per event (`urn:uuid:…`), the same on every retry: deduplicate on it. */
  readonly id: string
  readonly type: 'subscribe' | 'unsubscribe'
  /** When it happened (ISO 8601, UTC), not when it was sent. */
  readonly time: string
  /** The node the subscriber was connected to, when the hub knows its id; else `null`. */
  readonly node: string | null
  /** The subscriber's id (`urn:uuid:…`): one per connection, a reconnection gets a new one. */
  readonly subscriber: string
  /** The protocol it subscribed with; `null` for a lost node's subscriber. */
  readonly protocol: '0.x' | '1.0' | null
  readonly selectors: readonly WebhookSelector[]
  /** Its token's payload (see `subscriptionPayload`), when it has one. */
  readonly payload?: unknown
  /** For `unsubscribe`: why it left. */
  readonly reason?: UnsubscribeReason
}

/** What a subscriber event needs of a subscriber: `Subscriber` has it. */
export type WebhookSubscriber = Pick<Subscriber, 'id' | 'selectors' | 'claims' | 'protocol'>

/**
 * An event waiting to be sent: its fields are kept as references and turned into JSON when it is
 * first sent, off the hub's dispatch path (a subscription may carry 1,000 selectors).
 */
export interface PendingEvent {
  readonly id: string
  readonly kind: WebhookEventKind
  /** Whose events stay in order: the subscriber id. */
  readonly key: string
  /** The JSON body, once made: retries send these very bytes. */
  body: string | undefined
  readonly make: () => WebhookEvent
}

/** The claims a payload is picked from. */
type PayloadClaims = Pick<SubscriberClaims, 'payload' | 'subscribePayloads'>

const matcher = createSelectorMatcher()
const matches = (selector: string, topic: string): boolean => matcher.matches(selector, topic)

function selectorsOf(selectors: readonly string[]): WebhookSelector[] {
  return selectors.map((selector) => {
    const { type, match } = describeSelector(selector)
    return { type, match }
  })
}

/**
 * An event's payload: its first subscription's (see `subscriptionPayload`), the same whichever
 * node computes it from the same claims.
 */
function payloadOf(selectors: readonly string[], claims: PayloadClaims | null): unknown {
  const first = selectors[0]
  return first === undefined ? undefined : subscriptionPayload(claims, first, matches)
}

/** A subscriber of this node joining or leaving, as a {@link PendingEvent}. */
export function subscriberEvent(
  subscriber: WebhookSubscriber,
  reason: EventStreamCloseReason | null,
  node: () => string | null,
  now = Date.now(),
): PendingEvent {
  const id = `urn:uuid:${randomUUID()}`
  // Only these are kept, not the subscriber: it holds its stream and, through it, the
  // connection's objects, which a queue of 10,000 events during an outage must not keep alive.
  const { id: subscriberId, selectors, claims, protocol } = subscriber
  return {
    id,
    kind: reason === null ? 'subscribe' : 'unsubscribe',
    key: subscriberId,
    body: undefined,
    make: () => {
      const payload = payloadOf(selectors, claims)
      return {
        id,
        type: reason === null ? 'subscribe' : 'unsubscribe',
        time: new Date(now).toISOString(),
        node: node(),
        subscriber: subscriberId,
        protocol,
        selectors: selectorsOf(selectors),
        ...(payload === undefined ? {} : { payload }),
        ...(reason === null ? {} : { reason }),
      }
    },
  }
}

/** A lost node's subscriber, gone with it, as a {@link PendingEvent}. */
export function lostSubscriberEvent(
  subscriber: LostSubscriber,
  node: string,
  now = Date.now(),
): PendingEvent {
  const id = `urn:uuid:${randomUUID()}`
  return {
    id,
    kind: 'node-lost',
    key: subscriber.id,
    body: undefined,
    make: () => {
      // It kept its claims' `payload` and `subscribePayloads`: the subscribe event's payload.
      const payload = payloadOf(subscriber.selectors, subscriber)
      return {
        id,
        type: 'unsubscribe',
        time: new Date(now).toISOString(),
        node,
        subscriber: subscriber.id,
        protocol: null,
        selectors: selectorsOf(subscriber.selectors),
        ...(payload === undefined ? {} : { payload }),
        reason: 'node-lost',
      }
    },
  }
}

/** The body of `event`, made once. */
export function bodyOf(event: PendingEvent): string {
  event.body ??= JSON.stringify(event.make())
  return event.body
}

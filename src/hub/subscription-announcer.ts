import { encodeEvent } from '../core/encode.ts'
import { AnnounceBudget } from './announce-budget.ts'
import {
  DEFAULT_SUBSCRIPTION_EVENT_RATE,
  DEFAULT_SUBSCRIPTION_EVENT_SELECTORS,
  SUBSCRIPTION_EVENT_BURST_FACTOR,
} from './defaults.ts'
import type { Subscriber, TopicMatcher } from './subscriber.ts'
import { subscriptionsOf } from './subscription-directory.ts'
import type { SubscriptionEventRelay } from './subscription-event-relay.ts'
import { subscriptionUpdate } from './subscription-events.ts'
import {
  SUBSCRIPTION_EVENT_TYPE,
  subscriptionEventProtocol,
  subscriptionUpdateV1,
} from './subscription-events-v1.ts'
import type { SubscriptionIndex } from './subscription-index.ts'
import type { StoredUpdate, Update } from './update.ts'

/** Bounds on subscription events (see docs/hub.md, "Subscription events"). */
export interface SubscriptionEventLimits {
  /**
   * Selectors of one connection that are announced: its first ones. The others are subscribed
   * and listed by the subscriptions API all the same, but cause no event. Defaults to `100`.
   */
  maxSelectors?: number
  /**
   * Subscription events per second that the connections of one client address (an IPv6 client:
   * its /64) may cause, joining and leaving both counted when it connects; `null` for no limit.
   * A subscription change counts once, though it is sent in both the 0.x and the 1.0 shape (each
   * listener receives one of them).
   * A connection over the budget is not announced at all, neither joining nor leaving. Defaults
   * to `50`.
   */
  perSecond?: number | null
  /** Events one client address may cause at once, before the rate applies. Defaults to 10 × `perSecond`. */
  burst?: number
}

/** Why subscription events were not sent: see {@link SubscriptionAnnouncerOptions.onDropped}. */
export type SubscriptionEventDropReason = 'selectors' | 'rate' | 'congested'

/** Options of {@link createSubscriptionAnnouncer}. */
export interface SubscriptionAnnouncerOptions {
  /** The hub's subscribers by selector: who receives an event. */
  index: SubscriptionIndex<Subscriber>
  matches: TopicMatcher
  /** Carries events to every node sharing the store. Defaults to this hub's subscribers only. */
  relay?: SubscriptionEventRelay | undefined
  /**
   * The id of the newest update this node dispatched (the store's head): what every live
   * subscriber has been sent or passed over. Defaults to none (each recipient's own cursor).
   */
  headId?: (() => string | undefined) | undefined
  limits?: SubscriptionEventLimits | undefined
  /**
   * Counts events not sent: `selectors` past `maxSelectors`, `rate` of a connection over its
   * address's budget (joining and leaving), `congested` for a recipient whose stream holds more
   * than half its bound (the event is not history: it cannot be caught up on). Defaults to none.
   */
  onDropped?: ((count: number, reason: SubscriptionEventDropReason) => void) | undefined
  /** Counts events written to recipients. Defaults to none. */
  onDelivered?: ((count: number) => void) | undefined
}

/** Announces subscribers joining and leaving: Mercure's subscription events. */
export interface SubscriptionAnnouncer {
  /** A subscriber connected from `address`: announces its selectors, if its address has the budget. */
  joined(subscriber: Subscriber, address: string | undefined): void
  /** A subscriber's stream closed: announces it left, if its joining was announced. */
  left(subscriber: Subscriber): void
  /** Stops listening to the relay. */
  close(): void
}

/**
 * Creates a {@link SubscriptionAnnouncer}. Subscription events are never appended to the history:
 * a client that reconnects in a loop with many selectors would evict the updates every other
 * client resumes from (issue #11: 100,000 updates gone in 3.7 s). They are sent live, through the
 * relay when there is one, to the subscribers whose selectors match and whose token allows them
 * ([spec] "The update MUST be private").
 *
 * Each change is announced in two shapes, and each listener gets the shape of the protocol it
 * subscribed with: a 0.x listener the JSON-LD document at `…/subscriptions/{topic}/{subscriber}`
 * (`subscription-events.ts`), a 1.0 listener the plain JSON document at
 * `…/subscriptions/{match_type}/{match}/{subscriber}` with SSE type `mercure`
 * (`subscription-events-v1.ts`). A 0.x URI Template subscription has no 1.0 shape.
 *
 * A recipient gets the event with an id (see {@link subscriptionEventId}) naming the last update
 * of the history it had been sent or passed over (for live subscribers: the node's head, one id
 * for all), so that a client whose last event is a subscription event resumes the history where
 * it stood, on any node.
 *
 * @throws {RangeError} for limits that are not positive numbers.
 */
export function createSubscriptionAnnouncer(
  options: SubscriptionAnnouncerOptions,
): SubscriptionAnnouncer {
  const { index, matches, relay, headId, onDropped, onDelivered } = options
  const maxSelectors = options.limits?.maxSelectors ?? DEFAULT_SUBSCRIPTION_EVENT_SELECTORS
  if (!(Number.isSafeInteger(maxSelectors) && maxSelectors >= 1)) {
    throw new RangeError(`maxSelectors must be a whole number of at least 1, got ${maxSelectors}.`)
  }
  const perSecond =
    options.limits?.perSecond === undefined
      ? DEFAULT_SUBSCRIPTION_EVENT_RATE
      : options.limits.perSecond
  const budget =
    perSecond === null
      ? null
      : new AnnounceBudget({
          perSecond,
          burst: options.limits?.burst ?? SUBSCRIPTION_EVENT_BURST_FACTOR * perSecond,
        })
  // The subscribers whose joining was announced: their leaving is, whatever the budget then.
  const announced = new WeakSet<Subscriber>()

  const deliver = (event: Update): void => {
    // `mayReceive` reads only `private` and `topics`: the event has no place in the history.
    const asStored: StoredUpdate = { ...event, cursor: '', time: 0 }
    let delivered = 0
    let congested = 0
    // Live subscribers were all sent or passed over every update up to this node's head: they get
    // one id and the same bytes, so the tabs of a shared client, or any two clients, see the same
    // event as the same id (a follower's catch-up ends on an id its leader relayed). A subscriber
    // still catching up gets its own cursor, behind the head.
    let shared: Uint8Array | undefined
    // Read from the topic, not `event.type`: a relay carries only id, topics, data and private.
    const protocol = subscriptionEventProtocol(event.topics[0] ?? '')
    const type = protocol === '1.0' ? SUBSCRIPTION_EVENT_TYPE : undefined
    const encodeFor = (cursorId: string | undefined): Uint8Array =>
      encodeEvent({ id: subscriptionEventId(event.id, cursorId), event: type, data: event.data })
    index.match(event.topics, (subscriber) => {
      const { stream } = subscriber
      // Each change goes out in both shapes; a listener gets its own protocol's only.
      if (subscriber.protocol !== protocol) return
      if (stream.closed || !subscriber.mayReceive(asStored, matches)) return
      let bytes: Uint8Array
      if (subscriber.live && headId !== undefined) {
        shared ??= encodeFor(headId())
        bytes = shared
      } else {
        bytes = encodeFor(subscriber.cursorId)
      }
      const queued = stream.queuedBytes
      if ((queued > 0 || stream.paused) && queued + bytes.byteLength > stream.maxQueueBytes / 2) {
        congested++
        return
      }
      if (stream.write(bytes)) delivered++
    })
    if (delivered > 0) onDelivered?.(delivered)
    if (congested > 0) onDropped?.(congested, 'congested')
  }
  const stopListening = relay?.onEvent(deliver)
  const send = relay === undefined ? deliver : (event: Update) => relay.send(event)

  /**
   * Announces the first `maxSelectors` selectors, or counts them dropped when `active` is null.
   * Each in the 0.x shape and, when it has one (not a 0.x URI Template), the 1.0 shape: two
   * events, but one change, one unit of budget, and at most one event per listener.
   */
  const announce = (subscriber: Subscriber, active: boolean | null): void => {
    const { selectors } = subscriber
    const count = Math.min(selectors.length, maxSelectors)
    if (active === null) onDropped?.(count, 'rate')
    else
      for (const subscription of subscriptionsOf(subscriber, matches, count)) {
        send(subscriptionUpdate(subscription, active))
        const v1 = subscriptionUpdateV1(subscription, active)
        if (v1 !== null) send(v1)
      }
    if (selectors.length > count) onDropped?.(selectors.length - count, 'selectors')
  }

  return {
    joined(subscriber, address) {
      const count = Math.min(subscriber.selectors.length, maxSelectors)
      // Leaving is paid for on joining: a watcher never sees a subscriber join and not leave.
      const allowed = budget === null || budget.take(address, 2 * count)
      if (allowed) announced.add(subscriber)
      announce(subscriber, allowed ? true : null)
    },
    left(subscriber) {
      announce(subscriber, announced.delete(subscriber) ? false : null)
    },
    close() {
      stopListening?.()
    },
  }
}

/**
 * The id one recipient gets a subscription event with: the event's own (`#<uuid>`: [spec] a hub
 * MAY generate `#fragment` ids, which no publisher may use), then `/` and the id of the last
 * update of the history the recipient had been sent or read past, percent-encoded only where a
 * URI fragment needs it (a `urn:uuid:` id stays as it is: the header it comes back in stays
 * short). Resuming from it resumes the history there (see {@link updateReachedBy}); the
 * subscription events in between are not replayed (they are not history).
 */
export function subscriptionEventId(eventId: string, reached: string | undefined): string {
  if (reached === undefined) return eventId
  try {
    return `${eventId}/${encodeURI(reached).replaceAll('#', '%23')}`
  } catch {
    // A lone surrogate cannot be encoded: the event then names no update (resume: `earliest`).
    return eventId
  }
}

/**
 * Where the history resumes for a `Last-Event-ID` other than `earliest`: after the update with
 * that id or, for a subscription event's id, after the update its recipient had reached (`exact`);
 * from the oldest retained update when it had reached none (not `exact`: the response then says
 * `earliest`). `null` when the history holds no such update.
 */
export async function resumePoint(
  find: (id: string) => Promise<string | null>,
  lastEventId: string,
): Promise<{ after: string | null; afterId: string | undefined; exact: boolean } | null> {
  const cursor = await find(lastEventId)
  if (cursor !== null) return { after: cursor, afterId: lastEventId, exact: true }
  const reached = updateReachedBy(lastEventId)
  if (reached === undefined) return null
  if (reached === null) return { after: null, afterId: undefined, exact: false }
  const found = await find(reached)
  return found === null ? null : { after: found, afterId: reached, exact: true }
}

const EVENT_ID = /^#[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(?:\/(.*))?$/s

/**
 * For the id of a subscription event (see {@link subscriptionEventId}): the id of the update its
 * recipient had reached, or `null` when it had reached none (the history was empty when it
 * connected). `undefined` for any other id.
 */
export function updateReachedBy(lastEventId: string): string | null | undefined {
  const match = EVENT_ID.exec(lastEventId)
  if (match === null) return undefined
  if (match[1] === undefined) return null
  try {
    return decodeURIComponent(match[1])
  } catch {
    return undefined
  }
}

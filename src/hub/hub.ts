import { encodeEvent } from '../core/encode.ts'
import type { EventStream, EventStreamCloseReason } from '../core/event-stream.ts'
import { createDeadlines } from './deadlines.ts'
import {
  DEFAULT_MAX_LIFETIME_MS,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_ADDRESS,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN,
  DEFAULT_MAX_TEMPLATE_STATES,
  DEFAULT_MAX_TEMPLATE_WORK,
} from './defaults.ts'
import { createEncodedUpdates } from './encoded-updates.ts'
import { type EventStore, retains } from './event-store.ts'
import {
  appendTraced,
  endCounted,
  endFailed,
  type PublishSpans,
  startDispatch,
} from './hub-traces.ts'
import {
  REPLAY_QUEUE_BYTES,
  replayBudgetLeft,
  room,
  waitForBudget,
  yieldBudget,
} from './replay-pacing.ts'
import { replayPageLimit } from './replay-pages.ts'
import type { SubscribeRequest } from './subscribe-request.ts'
import { Subscriber, type TopicMatcher } from './subscriber.ts'
import {
  createSubscriptionAnnouncer,
  resumePoint,
  type SubscriptionEventDropReason,
  type SubscriptionEventLimits,
} from './subscription-announcer.ts'
import { type SubscriptionDirectory, subscriptionsOf } from './subscription-directory.ts'
import type { SubscriptionEventRelay } from './subscription-event-relay.ts'
import { SubscriptionIndex } from './subscription-index.ts'
import { SubscriptionLimitError, SubscriptionLimits } from './subscription-limits.ts'
import { createSelectorMatcher, type SelectorMatcher } from './topic-selector.ts'
import type { TraceSpan } from './trace-span.ts'
import type { StoredUpdate, Update } from './update.ts'

/**
 * Counters the hub reports to (the `ssehub` server feeds Prometheus from them:
 * `server/metrics.ts`). Every method is optional.
 */
export interface HubMetrics {
  published?(update: StoredUpdate, seconds: number): void
  delivered?(count: number): void
  /** A subscriber is registered (its subscription events, if any, are sent right after). */
  subscribed?(subscriber: Subscriber): void
  /** A subscriber's stream closed and it is forgotten. */
  disconnected?(reason: EventStreamCloseReason, subscriber: Subscriber): void
  /** Subscription events not sent (see `SubscriptionAnnouncerOptions.onDropped`). */
  subscriptionEventsDropped?(count: number, reason: SubscriptionEventDropReason): void
}

/** Options for {@link createHub}. */
export interface HubOptions {
  /** Where updates are committed and history is read. */
  store: EventStore
  /** Decides whether a topic selector matches a topic; shared with the index. Defaults to a new one. */
  matcher?: SelectorMatcher
  /**
   * Most updates read from the store per history page on replay (fewer when updates are large:
   * a page aims at about 1 MiB of payload). Defaults to `500`.
   */
  replayPageSize?: number
  /**
   * Longest a connection stays open, in milliseconds, randomized per connection to 80–100 % so
   * reconnections spread out; the stream then ends cleanly and the client resumes with its last
   * id. `null` for no limit. Defaults to `600000` (10 minutes, as the reference hub).
   */
  maxLifetimeMs?: number | null
  /** Send subscription events: private, live, never in the history. Defaults to `false`. */
  subscriptionEvents?: boolean
  /** Bounds on subscription events. Defaults to {@link SubscriptionEventLimits}' defaults. */
  subscriptionEventLimits?: SubscriptionEventLimits
  /** Carries subscription events to every node sharing the store. Defaults to this hub's only. */
  relay?: SubscriptionEventRelay | undefined
  /**
   * Where the active subscriptions are recorded, for the subscriptions API: a store shared by
   * several nodes provides one listing every node's. Defaults to a directory listing this hub's own
   * subscribers, in connection order.
   */
  directory?: SubscriptionDirectory
  /** Counters. Defaults to none. */
  metrics?: HubMetrics
  /** Called when a catch-up from the history fails. Defaults to none. */
  onError?: (error: unknown) => void
  /**
   * Bound of the URI Template work one topic meets on every publish, summed over the distinct
   * templates subscribed to whose literal prefixes it starts with (each costs its automaton states
   * plus 32; identical templates count once): a subscription that would pass it is refused with a
   * {@link SubscriptionLimitError}. `null` for none. Defaults to `4096`.
   */
  maxTemplateWork?: number | null
  /**
   * Bound of the summed costs of all distinct templates subscribed to (their memory), in the same
   * unit. `null` for none. Defaults to `1048576`.
   */
  maxTemplateStates?: number | null
  /**
   * Most subscriptions open at once from one client address (`SubscribeRequest.clientAddress`;
   * an IPv6 client counts by its /64). `null` for no cap. Defaults to `1000`.
   */
  maxSubscriptionsPerAddress?: number | null
  /**
   * Most subscriptions open at once with one token (`SubscribeRequest.tokenDigest`). `null` for no
   * cap. Defaults to `1000`.
   */
  maxSubscriptionsPerToken?: number | null
}

export type { SubscribeRequest }

/** A Mercure hub: publish, subscribe with gap-free replay, private updates, subscription events. */
export interface Hub {
  /**
   * Commits an update, then dispatches it; resolves once it is committed (acknowledge then). With
   * `span` (the publish request's), records `store.commit` and `dispatch` under it.
   */
  publish(update: Update, span?: TraceSpan): Promise<StoredUpdate>
  /** Subscribes one connection: replays history after its cursor, then delivers live updates. */
  subscribe(request: SubscribeRequest): Promise<Subscriber>
  /** The connected subscribers. */
  readonly subscribers: ReadonlySet<Subscriber>
  /** Where the active subscriptions are listed (with a shared store: every node's). */
  readonly directory: SubscriptionDirectory
  /**
   * The id of the newest update dispatched (read from the store: after a restart, the newest one
   * in the history), or `'earliest'` when there is none.
   */
  readonly lastEventId: string
  /** Ends every subscriber's stream cleanly and stops listening to the store. */
  close(): void
}

/** Bytes of encoded updates kept for replays (see `encoded-updates.ts`). */
const ENCODED_CACHE_BYTES = 8 * 1024 * 1024

/** Creates a {@link Hub}. */
export function createHub(options: HubOptions): Hub {
  const { store, metrics } = options
  const matcher = options.matcher ?? createSelectorMatcher()
  const matches: TopicMatcher = (selector, topic) => matcher.matches(selector, topic)
  const pageSize = options.replayPageSize ?? 500
  const maxLifetimeMs =
    options.maxLifetimeMs === undefined ? DEFAULT_MAX_LIFETIME_MS : options.maxLifetimeMs
  const index = new SubscriptionIndex<Subscriber>({
    matcher,
    maxTemplateWork:
      options.maxTemplateWork === undefined ? DEFAULT_MAX_TEMPLATE_WORK : options.maxTemplateWork,
    maxTemplateStates:
      options.maxTemplateStates === undefined
        ? DEFAULT_MAX_TEMPLATE_STATES
        : options.maxTemplateStates,
  })
  const limits = new SubscriptionLimits(index, {
    maxPerAddress:
      options.maxSubscriptionsPerAddress === undefined
        ? DEFAULT_MAX_SUBSCRIPTIONS_PER_ADDRESS
        : options.maxSubscriptionsPerAddress,
    maxPerToken:
      options.maxSubscriptionsPerToken === undefined
        ? DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN
        : options.maxSubscriptionsPerToken,
  })
  const subscribers = new Set<Subscriber>()
  // The hub's own set of subscribers already is the local directory, in connection order and
  // with the same timing: a second map of them would cost an entry per connection.
  const directory: SubscriptionDirectory = options.directory ?? {
    addSubscriber() {},
    deleteSubscriber() {},
    listSubscriptions: async () => [...subscribers].flatMap((s) => subscriptionsOf(s, matches)),
  }
  const deadlines = createDeadlines<Subscriber>({
    onExpire: (subscriber) => {
      const expired =
        subscriber.expiresAt !== undefined && subscriber.expiresAt <= Date.now() + 1500
      subscriber.stream.close(expired ? 'expired' : 'lifetime')
    },
  })
  // Subscribers replaying the same history (a reconnect storm) encode each update once; the live
  // dispatch encodes each update once for all its subscribers, and holds nothing.
  const encoded = createEncodedUpdates(ENCODED_CACHE_BYTES)

  // The id-only block of a cursor-less subscriber (below) is the same for all of them until the
  // next update: encoded once, rather than into an off-heap buffer per connection.
  let cursor: { id: string; bytes: Uint8Array } = { id: '', bytes: new Uint8Array(0) }
  const cursorBlock = (id: string): Uint8Array => {
    if (cursor.id !== id) cursor = { id, bytes: encodeEvent({ id }) }
    return cursor.bytes
  }

  // The mean payload of recent updates (an exponential moving average over about 64), which sizes
  // the first history page of a catch-up.
  let meanPayload = 256
  // Catch-ups running now: they share the pages' bytes (replay-pages.ts).
  let catchingUp = 0
  const pageLimit = (payloadPerUpdate: number): number =>
    replayPageLimit(payloadPerUpdate, catchingUp, pageSize)

  // Empty unless a traced publish is committing: then its dispatch gets a span (hub-traces.ts).
  const publishSpans: PublishSpans = new Map()
  const dispatch = (updates: readonly StoredUpdate[]): void => {
    let delivered = 0
    for (const update of updates) {
      meanPayload += (update.data.length - meanPayload) / 64
      const traced = publishSpans.size === 0 ? undefined : startDispatch(publishSpans, update)
      const before = delivered
      let bytes: Uint8Array | undefined
      index.match(update.topics, (subscriber) => {
        // Catching up: the history has this update, and the catch-up will read it.
        if (!subscriber.live || !subscriber.mayReceive(update, matches)) return
        // Encoded once, on the first subscriber that gets it; every other one gets the same bytes.
        bytes ??= encoded.live(update)
        if (subscriber.deliver(update, bytes)) delivered++
      })
      if (traced !== undefined) endCounted(traced, 'ssehub.subscribers', delivered - before)
    }
    if (delivered > 0) metrics?.delivered?.(delivered)
  }
  const stopListening = store.onCommit(dispatch)

  // Subscription events never go into the store: see createSubscriptionAnnouncer.
  const announcer = options.subscriptionEvents
    ? createSubscriptionAnnouncer({
        index,
        matches,
        relay: options.relay,
        headId: () => store.headId() ?? undefined,
        limits: options.subscriptionEventLimits,
        onDropped: metrics?.subscriptionEventsDropped?.bind(metrics),
        onDelivered: metrics?.delivered?.bind(metrics),
      })
    : null

  /** Forgets a subscriber whose stream closed. */
  const release = (subscriber: Subscriber, reason: EventStreamCloseReason): void => {
    for (const selector of subscriber.selectors) index.delete(selector, subscriber)
    if (subscriber.tally !== undefined) limits.release(subscriber.tally)
    subscribers.delete(subscriber)
    deadlines.delete(subscriber)
    metrics?.disconnected?.(reason, subscriber)
    directory.deleteSubscriber(subscriber)
    announcer?.left(subscriber)
  }

  /**
   * Sends `subscriber` the history after its cursor, paced by its client, then switches it to
   * live delivery in the same synchronous step in which its cursor is seen to be the store's head.
   * Updates dispatched meanwhile are not held: each page reads up to the head as it is then, so
   * the next page has them. A client far behind catches up at its own pace, however long the
   * history; one that reads slower than updates come never goes live and never holds more than a
   * page of history, and one that stops reading is cut by its stream's stall timeout.
   *
   * If history after the cursor was evicted while it read (retention by count or age), the client
   * missed updates: its stream ends, and it reconnects with the last id it received, which the hub
   * then answers with `Last-Event-ID: earliest`, the protocol's way to say so.
   */
  const catchUp = async (subscriber: Subscriber): Promise<number> => {
    catchingUp++
    try {
      return await catchUpPaced(subscriber)
    } finally {
      catchingUp--
      // Whatever ended it, the next replay waiting for the budget may run.
      yieldBudget()
    }
  }

  /** Resolves with the count of updates sent (the `replay` span's). */
  const catchUpPaced = async (subscriber: Subscriber): Promise<number> => {
    const { stream } = subscriber
    // Payload per update of the last page read; the page's count is worked out right before each
    // read, so that it takes the share of the catch-ups running then: a limit computed when the
    // previous page ended, while a reconnect storm was still arriving, overshot the share.
    let perUpdate = meanPayload
    let sent = 0
    for (;;) {
      await room(stream)
      if (stream.closed) return sent
      const cursor = subscriber.cursor
      const head = store.head()
      const headId = store.headId() ?? undefined
      if (head === null || cursor === head) {
        subscriber.goLive()
        return sent
      }
      const page = await store.read(cursor, head, pageLimit(perUpdate))
      if (stream.closed) return sent
      // Eviction goes oldest first: if the cursor is still retained now, it was when the page
      // was read, and the page starts right after it.
      const cursorId = subscriber.cursorId
      if (cursor !== null && cursorId !== undefined && !(await retains(store, cursor, cursorId))) {
        stream.close('server-closed')
        return sent
      }
      if (page.length === 0) {
        // Nothing of this store's between the cursor and the head.
        subscriber.moveTo(head, headId)
        continue
      }
      let delivered = 0
      let payload = 0
      let read = 0
      for (const update of page) {
        payload += update.data.length
        if (subscriber.wants(update, matches) && subscriber.mayReceive(update, matches)) {
          stream.write(encoded.replay(update))
          delivered++
        }
        subscriber.moveTo(update.cursor, update.id)
        // The clock is read every 16 updates: a skipped update costs well under a microsecond.
        if (stream.queuedBytes >= REPLAY_QUEUE_BYTES) await room(stream)
        else if ((++read & 15) === 0 && !replayBudgetLeft()) await waitForBudget()
        if (stream.closed) break
      }
      if (delivered > 0) metrics?.delivered?.(delivered)
      sent += delivered
      if (stream.closed) return sent
      // The next page is sized by what this one held.
      perUpdate = payload / page.length
    }
  }

  /** Catches a live subscriber that fell behind up from the history (see Subscriber.deliver). */
  const onBehind = (subscriber: Subscriber): void => {
    catchUp(subscriber).catch((error: unknown) => {
      options.onError?.(error)
      // The client resumes from the last id it received; closing beats a silent gap.
      subscriber.stream.close('error')
    })
  }

  return {
    get subscribers() {
      return subscribers
    },
    directory,
    get lastEventId() {
      return store.headId() ?? 'earliest'
    },

    async publish(update, span) {
      const started = performance.now()
      const stored = await (span === undefined
        ? store.append(update)
        : appendTraced(store, update, span, publishSpans))
      metrics?.published?.(stored, (performance.now() - started) / 1000)
      return stored
    },

    async subscribe(request) {
      // [spec] draft-07: with `Last-Event-ID`, the response's `Last-Event-ID` header is the id of
      // the event preceding the first one sent, or `earliest` when there is none: an unknown id
      // (expired from history, or never existed) answers `earliest` and replays nothing, so the
      // client can tell that it may have missed updates and refetch the state.
      request.span?.setAttribute('ssehub.topics', request.selectors.length)
      let after: string | null = null
      let afterId: string | undefined
      let doReplay = false
      const headers: Record<string, string> = {}
      if (request.lastEventId !== undefined) {
        let answer = 'earliest'
        if (request.lastEventId === 'earliest') {
          doReplay = true
        } else {
          // A subscription event's id names the update its recipient had reached (not history).
          const point = await resumePoint((id) => store.find(id), request.lastEventId)
          if (point !== null) {
            after = point.after
            afterId = point.afterId
            doReplay = true
            if (point.exact) answer = request.lastEventId
          }
        }
        headers['last-event-id'] = answer
        headers['mercure-last-event-id'] = answer
      }

      // Checked in the same synchronous step as the registration below: what it admits is what
      // gets added. Refused, nothing is opened: the caller answers 429.
      const tally = limits.admit(request)
      if (tally instanceof SubscriptionLimitError) throw tally
      let stream: EventStream
      try {
        stream = request.open(headers)
      } catch (error) {
        limits.release(tally)
        throw error
      }
      const subscriber = new Subscriber({
        protocol: request.protocol,
        selectors: request.selectors,
        claims: request.claims,
        stream,
        expiresAt: request.expiresAt,
        tally,
        onClose: release,
        onBehind,
      })
      // Registering and reading the head happen in one synchronous step: every update up to the
      // head was dispatched before this subscriber existed (so the history has it), every later
      // one reaches it live, or through its catch-up. No gap, no duplicate.
      for (const selector of request.selectors) index.add(selector, subscriber)
      subscribers.add(subscriber)
      const headId = store.headId() ?? 'earliest'
      if (doReplay) subscriber.moveTo(after, after === null ? undefined : afterId)
      else {
        subscriber.moveTo(store.head(), store.headId() ?? undefined)
        subscriber.goLive()
      }
      // Recorded before its subscription event is sent (below), and forgotten before the closing
      // one: a watcher sees a subscriber listed by the time its event arrives.
      directory.addSubscriber(subscriber)
      metrics?.subscribed?.(subscriber)

      // The subscriber is the stream's close handler (it calls `release`): no closure per
      // connection, and none keeping the request alive (its `open` holds the HTTP objects).
      stream.onClose(subscriber)
      let deadline = request.expiresAt ?? Number.POSITIVE_INFINITY
      if (maxLifetimeMs !== null)
        deadline = Math.min(deadline, Date.now() + maxLifetimeMs * (0.8 + 0.2 * Math.random()))
      if (deadline !== Number.POSITIVE_INFINITY) deadlines.set(subscriber, deadline)
      announcer?.joined(subscriber, request.clientAddress)

      const resumed = request.lastEventId
      if (
        request.signalGap === true &&
        resumed !== undefined &&
        resumed !== 'earliest' &&
        !doReplay
      ) {
        stream.write(
          encodeEvent({
            event: 'mercure',
            id: headId,
            data: JSON.stringify({ type: 'gap', last_event_id: resumed }),
          }),
        )
      } else if (!doReplay && request.sendCursor === true) {
        // The id of the newest update, as an id-only block: it moves the client's last event ID
        // and dispatches nothing, so a stream that ends before its first event (lifetime, token
        // expiry, a network blip) reconnects with a Last-Event-ID and loses nothing published in
        // between. With no history yet, `earliest`: resuming from it replays everything since.
        stream.write(cursorBlock(headId))
      }
      if (doReplay) {
        const replay = request.span?.child('replay')
        try {
          const sent = await catchUp(subscriber)
          if (replay !== undefined) endCounted(replay, 'ssehub.replayed', sent)
        } catch (error) {
          if (replay !== undefined) endFailed(replay, error)
          options.onError?.(error)
          // The client resumes from the last id it received; closing beats a silent gap.
          stream.close('error')
        }
      }
      return subscriber
    },

    close() {
      stopListening()
      announcer?.close()
      for (const subscriber of [...subscribers]) subscriber.stream.close('server-closed')
    },
  }
}

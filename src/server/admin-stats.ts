import type { ClusterNode, EventStore, StoredUpdate, Subscriber } from '../hub/index.ts'
import type { EventStreamCloseReason } from '../index.ts'
import type { MercureMetrics } from '../node/index.ts'
import { LatencySamples } from './latency-samples.ts'
import { TopCounts } from './top-counts.ts'

/** What the collector reads of a subscriber: its id, its selectors, and its queued bytes. */
export type AdminSubscriber = Pick<Subscriber, 'id' | 'selectors'> & {
  readonly stream: { readonly queuedBytes: number }
}

/** Options for {@link createAdminStats}. */
export interface AdminStatsOptions {
  /** The hub's subscribers, read once a tick. Defaults to none. */
  subscribers?: () => Iterable<AdminSubscriber>
  /** The store (its kind, size and cluster view), or `null` when there is none. Defaults to none. */
  store?: () => Pick<EventStore, 'kind' | 'size' | 'cluster'> | null
  /** Milliseconds between two snapshots while someone watches. Defaults to `1000`. */
  intervalMs?: number
  /** A monotonic clock in milliseconds, as the hub's `performance.now()`. Defaults to it. */
  now?: () => number
  /** A uniform random number in [0, 1), for the latency reservoirs. Defaults to `Math.random`. */
  random?: () => number
}

/** Two percentiles of one interval, in milliseconds; `null` when nothing was measured. */
export interface Percentiles {
  readonly p50: number | null
  readonly p99: number | null
  /** How many were measured in the interval (the percentiles come from at most 2,048 of them). */
  readonly count: number
}

/** One snapshot of the dashboard's statistics stream (one JSON `stats` event a second). */
export interface AdminSnapshot {
  /** When it was taken, in milliseconds since the epoch. */
  readonly at: number
  /** Milliseconds the rates are measured over. */
  readonly intervalMs: number
  /** Connected subscribers (what the `ssehub_subscribers` gauge reads). */
  readonly subscribers: number
  /** Updates committed since the start (`ssehub_updates_published_total`). */
  readonly publishedTotal: number
  /** Updates written to subscribers since the start (`ssehub_updates_delivered_total`). */
  readonly deliveredTotal: number
  readonly publishesPerSecond: number
  readonly deliveriesPerSecond: number
  /** Publish accepted → bytes handed to the subscribers' sockets, in this interval. */
  readonly dispatchMs: Percentiles
  /** Publish accepted → committed by the store (`ssehub_publish_duration_seconds`), in this interval. */
  readonly commitMs: Percentiles
  /** The 5 subscribers with the most bytes queued (only those with some), most first. */
  readonly slowest: readonly { id: string; queuedBytes: number; selectors: string[] }[]
  /** Disconnections in this interval, by reason. */
  readonly cuts: Readonly<Partial<Record<EventStreamCloseReason, number>>>
  /** Disconnections since the start, by reason (`ssehub_disconnections_total`). */
  readonly cutsTotal: Readonly<Partial<Record<EventStreamCloseReason, number>>>
  /** The store's kind and retained updates (`ssehub_history_size`); `null` size when unknown. */
  readonly store: { readonly kind: string; readonly size: number | null } | null
  /** The 10 selectors most subscribed to, with their subscriber counts. */
  readonly topSelectors: readonly { key: string; count: number }[]
  /** The 10 topics most published to in this interval, in updates per second (approximate). */
  readonly topTopics: readonly { key: string; perSecond: number }[]
  /** One row per node of a cluster (a shared Redis store), or `null` for a single node. */
  readonly nodes: readonly ClusterNode[] | null
}

/** The dashboard's statistics: a hub observer, and the snapshots it makes while watched. */
export interface AdminStats {
  /** The hooks the hub reports to (combine them with the others: `combineMetrics`). */
  readonly metrics: MercureMetrics
  /** Whether snapshots are being made (someone watches). */
  readonly running: boolean
  /** How many watch. */
  readonly watchers: number
  /** The newest snapshot, or `null` before the first since watching began. */
  readonly latest: AdminSnapshot | null
  /** Calls `listener` with each snapshot; returns the function that stops it. */
  watch(listener: (snapshot: AdminSnapshot) => void): () => void
  /** Makes a snapshot now, over the time since the previous one (the timer calls it). */
  sample(): Promise<AdminSnapshot>
  /** Stops the timer and forgets every watcher. */
  close(): void
}

/** Most publishes of one event-loop turn whose dispatch latency is measured; the rest are counted. */
const MAX_PENDING_DISPATCH = 4096
/** Distinct selectors counted per snapshot (memory DoS guard: one per subscriber at worst). */
const MAX_SELECTOR_KEYS = 10_000
/** Topics of one update counted for the rate (an update may name many alternates). */
const MAX_TOPICS_PER_UPDATE = 8
/** Rows of the node table: a cluster larger than this shows its first nodes. */
const MAX_NODES = 64
const TOP_N = 10
const SLOWEST_N = 5

/**
 * Creates the dashboard's statistics collector. Totals (publishes, deliveries, cuts) are counted
 * always, one addition per hook, so they equal what `/metrics` reports; the costly parts (latency
 * samples, topic counts, the walk over the subscribers) run only while at least one viewer
 * watches, and stop with the last one.
 */
export function createAdminStats(options: AdminStatsOptions = {}): AdminStats {
  const intervalMs = options.intervalMs ?? 1000
  const now = options.now ?? (() => performance.now())
  const random = options.random ?? Math.random
  const listeners = new Set<(snapshot: AdminSnapshot) => void>()
  const dispatch = new LatencySamples(2048, random)
  const commit = new LatencySamples(2048, random)
  const topics = new TopCounts(128)
  const cutsTotal: Partial<Record<EventStreamCloseReason, number>> = {}
  let cutsBefore: Partial<Record<EventStreamCloseReason, number>> = {}
  let published = 0
  let delivered = 0
  let publishedBefore = 0
  let deliveredBefore = 0
  let sampledAt = now()
  let timer: ReturnType<typeof setInterval> | null = null
  let sampling = false
  let latest: AdminSnapshot | null = null
  let gauges: { subscribers: () => number; historySize: () => Promise<number> } | null = null
  // Publish-accepted times (on the hub's clock) of this turn, waiting for the shared flush.
  let pending: number[] = []
  let measureScheduled = false

  // Timing of dispatch latency. The hub reads `started = performance.now()` when a publish is
  // accepted (its body parsed, its token checked), then awaits `store.append`. Every store
  // dispatches a commit (store.onCommit → hub dispatch → stream.write, which queues the bytes and
  // schedules the one flush of all dirty streams with setImmediate) before it resolves that
  // append; only then does the hub call `published(update, seconds)`, with seconds measured from
  // `started`. A setImmediate scheduled here therefore runs after the flush's (setImmediate is
  // first in, first out) and after the bytes were handed to every ready socket: `now − started`
  // is then "accepted → written" for every publish of this turn, with one timer for all of them.
  // Streams held back by backpressure are not waited for: they are the slowest clients' panel.
  const measure = (): void => {
    measureScheduled = false
    const at = now()
    for (const accepted of pending) dispatch.add(at - accepted)
    pending = []
  }

  const metrics: MercureMetrics = {
    observe(sources) {
      gauges = sources
    },
    published(update: StoredUpdate, seconds: number) {
      published++
      if (timer === null) return
      commit.add(seconds * 1000)
      const limit = Math.min(update.topics.length, MAX_TOPICS_PER_UPDATE)
      for (let i = 0; i < limit; i++) topics.add(update.topics[i] as string)
      if (pending.length < MAX_PENDING_DISPATCH) pending.push(now() - seconds * 1000)
      if (!measureScheduled) {
        measureScheduled = true
        setImmediate(measure)
      }
    },
    delivered(count: number) {
      delivered += count
    },
    disconnected(reason: EventStreamCloseReason) {
      cutsTotal[reason] = (cutsTotal[reason] ?? 0) + 1
    },
  }

  const walkSubscribers = (): {
    count: number
    slowest: AdminSnapshot['slowest']
    topSelectors: AdminSnapshot['topSelectors']
  } => {
    const slowest: { id: string; queuedBytes: number; selectors: string[] }[] = []
    const selectors = new Map<string, number>()
    let count = 0
    for (const subscriber of options.subscribers?.() ?? []) {
      count++
      for (const selector of subscriber.selectors) {
        const seen = selectors.get(selector)
        if (seen !== undefined) selectors.set(selector, seen + 1)
        else if (selectors.size < MAX_SELECTOR_KEYS) selectors.set(selector, 1)
      }
      const queued = subscriber.stream.queuedBytes
      if (queued === 0) continue
      if (slowest.length === SLOWEST_N && queued <= (slowest.at(-1)?.queuedBytes ?? 0)) continue
      slowest.push({
        id: subscriber.id,
        queuedBytes: queued,
        selectors: subscriber.selectors.slice(0, 3).map((s) => cut(s)),
      })
      slowest.sort((a, b) => b.queuedBytes - a.queuedBytes)
      if (slowest.length > SLOWEST_N) slowest.pop()
    }
    const topSelectors = [...selectors]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_N)
      .map(([key, n]) => ({ key: cut(key), count: n }))
    return { count, slowest, topSelectors }
  }

  const storeFacts = async (): Promise<{
    store: AdminSnapshot['store']
    nodes: AdminSnapshot['nodes']
  }> => {
    const store = options.store?.() ?? null
    if (store === null) return { store: null, nodes: null }
    const size = gauges ? gauges.historySize() : store.size()
    const [measured, nodes] = await Promise.all([
      within(size, intervalMs),
      store.cluster ? within(store.cluster.nodes(), intervalMs) : Promise.resolve(null),
    ])
    return {
      store: { kind: store.kind, size: measured },
      nodes: nodes === null ? null : nodes.slice(0, MAX_NODES),
    }
  }

  const sample = async (): Promise<AdminSnapshot> => {
    const at = now()
    const seconds = Math.max(at - sampledAt, 1) / 1000
    sampledAt = at
    const walk = walkSubscribers()
    const [dispatchP50, dispatchP99] = dispatch.quantiles([0.5, 0.99])
    const [commitP50, commitP99] = commit.quantiles([0.5, 0.99])
    const cuts: Partial<Record<EventStreamCloseReason, number>> = {}
    for (const [reason, total] of Object.entries(cutsTotal) as [EventStreamCloseReason, number][]) {
      const inInterval = total - (cutsBefore[reason] ?? 0)
      if (inInterval > 0) cuts[reason] = inInterval
    }
    const snapshot: Omit<AdminSnapshot, 'store' | 'nodes'> = {
      at: Date.now(),
      intervalMs: Math.round(seconds * 1000),
      subscribers: gauges ? gauges.subscribers() : walk.count,
      publishedTotal: published,
      deliveredTotal: delivered,
      publishesPerSecond: round((published - publishedBefore) / seconds),
      deliveriesPerSecond: round((delivered - deliveredBefore) / seconds),
      dispatchMs: { p50: ms(dispatchP50), p99: ms(dispatchP99), count: dispatch.seen },
      commitMs: { p50: ms(commitP50), p99: ms(commitP99), count: commit.seen },
      slowest: walk.slowest,
      cuts,
      cutsTotal: { ...cutsTotal },
      topSelectors: walk.topSelectors,
      topTopics: topics
        .top(TOP_N)
        .map(({ key, count }) => ({ key, perSecond: round(count / seconds) })),
    }
    publishedBefore = published
    deliveredBefore = delivered
    cutsBefore = { ...cutsTotal }
    dispatch.clear()
    commit.clear()
    topics.clear()
    // Read last, after the counters were taken: the store's answer may take a while (Redis).
    const facts = await storeFacts()
    latest = { ...snapshot, ...facts }
    return latest
  }

  const tick = (): void => {
    // A slow store (Redis far away) must not pile up snapshots: skip a tick rather than queue.
    if (sampling) return
    sampling = true
    sample()
      .then((snapshot) => {
        for (const listener of [...listeners]) listener(snapshot)
      })
      .catch(() => {
        // Nothing a viewer can act on: the next tick tries again.
      })
      .finally(() => {
        sampling = false
      })
  }

  const start = (): void => {
    publishedBefore = published
    deliveredBefore = delivered
    cutsBefore = { ...cutsTotal }
    sampledAt = now()
    timer = setInterval(tick, intervalMs)
    timer.unref()
  }

  const stop = (): void => {
    if (timer !== null) clearInterval(timer)
    timer = null
    latest = null
    pending = []
    dispatch.clear()
    commit.clear()
    topics.clear()
  }

  return {
    metrics,
    get running() {
      return timer !== null
    },
    get watchers() {
      return listeners.size
    },
    get latest() {
      return latest
    },
    watch(listener) {
      // A wrapper per call, so the same function watching twice is two watchers.
      const entry = (snapshot: AdminSnapshot): void => listener(snapshot)
      listeners.add(entry)
      if (timer === null) start()
      return () => {
        if (!listeners.delete(entry)) return
        if (listeners.size === 0) stop()
      }
    },
    sample,
    close() {
      listeners.clear()
      stop()
    },
  }
}

/** Resolves with `promise`'s value, or `null` if it fails or takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms)
  })
  return Promise.race([promise.catch(() => null), late]).finally(() => clearTimeout(timer))
}

/** A selector or topic cut to 200 characters, so a snapshot stays small. */
function cut(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}

/** Milliseconds to three decimals (microseconds): enough for a chart, short in JSON. */
function ms(value: number | null | undefined): number | null {
  return value == null ? null : Math.round(value * 1000) / 1000
}

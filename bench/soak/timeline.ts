import { readRss } from './rss.ts'

const MIB = 1024 * 1024
/** Points per series at most: a 45-minute run is still a chart, not a 2,700-point polyline. */
const MAX_POINTS = 600

/** Something that happened during the load, drawn as a marker (a restart, a storm). */
export interface TimelineEvent {
  /** Seconds from the end of the warm-up (negative during it). */
  readonly at: number
  readonly what: string
}

/** What a store's run looked like over time: one value per step, for the charts. */
export interface Timeline {
  /** Seconds between two samples. */
  readonly stepSeconds: number
  /** Where the measured load ends, in seconds (it starts at 0, after the warm-up). */
  readonly loadSeconds: number
  /** Each sample's time, in seconds from the end of the warm-up (negative during it). */
  readonly at: number[]
  /** Updates acknowledged per second over each step. */
  readonly publishesPerSecond: number[]
  /** Updates the reading clients received per second over each step (all of them). */
  readonly deliveriesPerSecond: number[]
  /**
   * Live readers' publish-to-receive latency over each step, in ms (from the first attempt to
   * send, so a retry across a restart counts whole); `null` for a step without deliveries.
   */
  readonly latencyP50Ms: Array<number | null>
  readonly latencyP99Ms: Array<number | null>
  /** Each node's RSS at each sample, in MiB; `null` while it was down. */
  readonly rssMiB: Record<string, Array<number | null>>
  readonly events: TimelineEvent[]
}

/** What the recorder reads at each sample. */
export interface TimelineSources {
  /** Updates acknowledged so far. */
  acknowledged(): number
  /** Deliveries to reading clients so far. */
  deliveries(): number
  readonly nodes: ReadonlyArray<{ readonly name: string; readonly pid: number | null }>
}

/** Samples a store's run until stopped; see {@link startTimeline}. */
export interface TimelineRecorder {
  /** Takes one delivery's latency, in ms (a reception's `onLatency`). */
  latency(ms: number): void
  mark(what: string): void
  /** Stops sampling and returns the timeline. Idempotent. */
  stop(): Timeline
}

/**
 * Samples acknowledgements, deliveries, latency and each node's RSS every `stepMs` (at least
 * 1 s, longer for long runs so no series passes 600 points), timed from `measureStart`
 * (`Date.now()` ms at the end of the warm-up). Cheap: counters and one /proc read per node.
 */
export function startTimeline(
  sources: TimelineSources,
  measureStart: number,
  totalMs: number,
  loadMs: number,
): TimelineRecorder {
  const stepMs = Math.max(1000, Math.ceil(totalMs / MAX_POINTS / 1000) * 1000)
  const timeline: Timeline = {
    stepSeconds: stepMs / 1000,
    loadSeconds: loadMs / 1000,
    at: [],
    publishesPerSecond: [],
    deliveriesPerSecond: [],
    latencyP50Ms: [],
    latencyP99Ms: [],
    rssMiB: Object.fromEntries(sources.nodes.map((node) => [node.name, []])),
    events: [],
  }
  let latencies: number[] = []
  let lastAcked = sources.acknowledged()
  let lastDeliveries = sources.deliveries()
  let lastAt = Date.now()
  const seconds = (ms: number): number => Math.round((ms - measureStart) / 100) / 10
  const timer = setInterval(() => {
    const now = Date.now()
    const span = Math.max(1, now - lastAt) / 1000
    const acked = sources.acknowledged()
    const deliveries = sources.deliveries()
    timeline.at.push(seconds(now))
    timeline.publishesPerSecond.push(round1((acked - lastAcked) / span))
    timeline.deliveriesPerSecond.push(round1((deliveries - lastDeliveries) / span))
    const sorted = Float64Array.from(latencies).sort()
    timeline.latencyP50Ms.push(quantile(sorted, 0.5))
    timeline.latencyP99Ms.push(quantile(sorted, 0.99))
    for (const node of sources.nodes) {
      const bytes = node.pid === null ? null : readRss(node.pid)
      timeline.rssMiB[node.name]?.push(bytes === null ? null : round1(bytes / MIB))
    }
    latencies = []
    lastAcked = acked
    lastDeliveries = deliveries
    lastAt = now
  }, stepMs)
  let stopped = false
  return {
    latency(ms) {
      if (!stopped) latencies.push(ms)
    },
    mark(what) {
      timeline.events.push({ at: seconds(Date.now()), what })
    },
    stop() {
      stopped = true
      clearInterval(timer)
      return timeline
    },
  }
}

/** A timeline with no samples (a store that did not run). */
export function emptyTimeline(): Timeline {
  return {
    stepSeconds: 1,
    loadSeconds: 0,
    at: [],
    publishesPerSecond: [],
    deliveriesPerSecond: [],
    latencyP50Ms: [],
    latencyP99Ms: [],
    rssMiB: {},
    events: [],
  }
}

function quantile(sorted: Float64Array, q: number): number | null {
  if (sorted.length === 0) return null
  return round1(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] as number)
}

function round1(value: number): number {
  return Math.round(value * 10) / 10
}

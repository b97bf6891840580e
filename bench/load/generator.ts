// The load generator's parent side: forks worker processes (worker.ts), spreads subscriber
// connections and publishes over them, waits for deliveries with a deadline and progress lines,
// and merges what the workers measured. Every operation is bounded in count and time.

import type { Endpoint } from './endpoint.ts'
import type { CollectReport, SubscribedReport, WorkerCommand } from './protocol.ts'
import { type PublishOptions, type PublishSummary, publishOn } from './publishing.ts'
import { concatSamples } from './stats.ts'
import { closeStreamsOn, type StreamOptions, type StreamSummary, streamOn } from './streams.ts'
import { emptyTick, endWorker, request, spawnWorker, type WorkerProcess } from './worker-process.ts'

export type { Endpoint }

/** What {@link LoadGenerator.subscribe} reports. */
export interface SubscribeResult {
  connected: number
  failed: number
  failures: Record<string, number>
  /** From the first connection attempt to the last response headers, in ms. */
  connectMs: number
  /** Connections whose headers arrived per second. */
  connectRate: number
  /** hrtime (ns) of the first connection attempt. */
  startNs: number
}

/** Totals of the workers' latest progress reports. */
export interface Totals {
  connected: number
  failed: number
  received: number
  unique: number
  dropped: number
}

/** What the subscribers measured, merged over the workers. */
export interface Collected {
  received: number
  unique: number
  duplicates: number
  foreign: number
  dropped: number
  /** Distinct updates received per connection, in the order the paths were given. */
  uniquePerConnection: Uint32Array
  /** Publish-to-receive latencies, microseconds. */
  samples: Float64Array
  samplesDropped: number
  firstReceiveNs: number
  lastReceiveNs: number
  /** CPU time of all workers so far, ms. */
  generatorCpuMs: number
}

/** Gets the progress of labelled waits (connections, deliveries): {@link LoadGenerator.reportTo}. */
export type WaitReport = (label: string, done: number, total: number | null, detail: string) => void

/** How often a labelled wait reports: lines every 2 s, or a progress bar 4 times a second. */
const LINE_EVERY_MS = 2000
const REPORT_EVERY_MS = 250

const nowNs = (): number => Number(process.hrtime.bigint())

/** Forks and drives the worker processes. Call {@link stop} when done. */
export class LoadGenerator {
  readonly #subscribers: WorkerProcess[]
  readonly #publishers: WorkerProcess[] = []
  #stopped = false
  #report: WaitReport | null = null

  private constructor(subscribers: WorkerProcess[]) {
    this.#subscribers = subscribers
  }

  /** Forks `subscriberWorkers` processes (default 2) holding the SSE connections. */
  static start(options: { subscriberWorkers?: number } = {}): LoadGenerator {
    const count = options.subscriberWorkers ?? 2
    return new LoadGenerator(Array.from({ length: count }, () => spawnWorker()))
  }

  /** The workers' pids (to see their CPU from outside, if wanted). */
  get pids(): number[] {
    return [...this.#subscribers, ...this.#publishers].map((w) => w.child.pid ?? 0)
  }

  /** Sends labelled waits' progress to `report` (a bar), not to lines; `null` for lines. */
  reportTo(report: WaitReport | null): void {
    this.#report = report
  }

  /** Passes a labelled wait's progress to the {@link reportTo} sink, if any. */
  report(label: string, done: number, total: number | null, detail: string): void {
    this.#report?.(label, done, total, detail)
  }

  /** Opens one SSE connection per path, spread over the workers; resolves when all settled. */
  async subscribe(
    endpoint: Endpoint,
    paths: readonly string[],
    options: {
      headers?: Record<string, string>
      concurrency?: number
      seqSpace: number
      maxSamples?: number
      connectTimeoutMs?: number
      label?: string
    },
  ): Promise<SubscribeResult> {
    const workers = this.#subscribers
    // Round-robin, so that a block of busy connections (wildcards, say) is shared by all workers.
    const slices = workers.map((_, w) => paths.filter((_, i) => i % workers.length === w))
    const started = nowNs()
    const report = this.#report
    const progress = setInterval(
      () => {
        const t = this.totals()
        if (report !== null && options.label !== undefined) {
          report(options.label, t.connected + t.failed, paths.length, `${t.failed} failed`)
        } else {
          const of = `${t.connected.toLocaleString('en-US')}/${paths.length.toLocaleString('en-US')}`
          log(options.label, `${of} connected, ${t.failed} failed`)
        }
      },
      report === null ? LINE_EVERY_MS : REPORT_EVERY_MS,
    )
    try {
      const reports = await Promise.all(
        workers.map((worker, w) => {
          const slice = slices[w] as string[]
          worker.tick = emptyTick()
          const command: WorkerCommand = {
            type: 'subscribe',
            host: endpoint.host,
            port: endpoint.port,
            paths: slice,
            headers: options.headers ?? {},
            concurrency: Math.max(1, Math.floor((options.concurrency ?? 512) / workers.length)),
            seqSpace: options.seqSpace,
            maxSamples: Math.ceil((options.maxSamples ?? 4_000_000) / workers.length),
            connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
          }
          return request<SubscribedReport>(worker, command, 'subscribed')
        }),
      )
      const failures: Record<string, number> = {}
      let connected = 0
      let failed = 0
      let first = Number.POSITIVE_INFINITY
      let last = 0
      for (const report of reports) {
        connected += report.connected
        failed += report.failed
        for (const [why, n] of Object.entries(report.failures))
          failures[why] = (failures[why] ?? 0) + n
        if (report.firstStartNs > 0) first = Math.min(first, report.firstStartNs)
        last = Math.max(last, report.lastConnectedNs)
      }
      if (!Number.isFinite(first)) first = started
      const connectMs = Math.max(0, (last - first) / 1e6)
      return {
        connected,
        failed,
        failures,
        connectMs,
        connectRate: connectMs > 0 ? connected / (connectMs / 1000) : Number.NaN,
        startNs: first,
      }
    } finally {
      clearInterval(progress)
    }
  }

  /** Sums of the workers' latest progress reports (at most 100 ms old). */
  totals(): Totals {
    const t: Totals = { connected: 0, failed: 0, received: 0, unique: 0, dropped: 0 }
    for (const { tick } of this.#subscribers) {
      t.connected += tick.connected
      t.failed += tick.failed
      t.received += tick.received
      t.unique += tick.unique
      t.dropped += tick.dropped
    }
    return t
  }

  /**
   * Waits until `done(totals)` holds, or `timeoutMs` passed, or nothing new arrived for
   * `idleMs` (deliveries stalled: the rest is lost). Prints progress every 2 s under `label`, or
   * reports it (see {@link reportTo}).
   */
  async waitFor(
    done: (totals: Totals) => boolean,
    options: { timeoutMs: number; idleMs?: number; label?: string; expected?: number },
  ): Promise<{ met: boolean; why: 'met' | 'timeout' | 'stalled' }> {
    const start = nowNs()
    const deadline = start + options.timeoutMs * 1e6
    const idleNs = (options.idleMs ?? 5000) * 1e6
    let lastReceived = -1
    let lastChange = start
    let lastLog = start
    const report = this.#report
    const everyNs = (report === null ? LINE_EVERY_MS : REPORT_EVERY_MS) * 1e6
    for (;;) {
      const t = this.totals()
      if (done(t)) return { met: true, why: 'met' }
      const now = nowNs()
      if (t.received !== lastReceived) {
        lastReceived = t.received
        lastChange = now
      }
      if (now >= deadline) return { met: false, why: 'timeout' }
      if (now - lastChange >= idleNs) return { met: false, why: 'stalled' }
      if (now - lastLog >= everyNs) {
        lastLog = now
        if (report !== null && options.label !== undefined) {
          report(options.label, t.unique, options.expected ?? null, `${t.dropped} dropped`)
        } else {
          const of =
            options.expected === undefined ? '' : `/${options.expected.toLocaleString('en-US')}`
          log(
            options.label,
            `${t.unique.toLocaleString('en-US')}${of} received, ${t.dropped} dropped, ${((now - start) / 1e9).toFixed(1)} s`,
          )
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }

  /** Merges what every subscriber worker measured since its last reset. */
  async collect(): Promise<Collected> {
    const reports = await Promise.all(
      this.#subscribers.map((w) => request<CollectReport>(w, { type: 'collect' }, 'collected')),
    )
    const perConnection = new Uint32Array(
      reports.reduce((n, r) => n + r.uniquePerConnection.length, 0),
    )
    let first = Number.POSITIVE_INFINITY
    let last = 0
    for (const [w, report] of reports.entries()) {
      // Undo the round-robin: the worker's j-th connection is path j * workers + w.
      report.uniquePerConnection.forEach((count, j) => {
        perConnection[j * reports.length + w] = count
      })
      if (report.firstReceiveNs > 0) first = Math.min(first, report.firstReceiveNs)
      last = Math.max(last, report.lastReceiveNs)
    }
    const sum = (
      key:
        | 'received'
        | 'unique'
        | 'duplicates'
        | 'foreign'
        | 'dropped'
        | 'samplesDropped'
        | 'cpuMs',
    ) => reports.reduce((n, r) => n + r[key], 0)
    return {
      received: sum('received'),
      unique: sum('unique'),
      duplicates: sum('duplicates'),
      foreign: sum('foreign'),
      dropped: sum('dropped'),
      uniquePerConnection: perConnection,
      samples: concatSamples(reports.map((r) => r.samples)),
      samplesDropped: sum('samplesDropped'),
      firstReceiveNs: Number.isFinite(first) ? first : 0,
      lastReceiveNs: last,
      generatorCpuMs: sum('cpuMs'),
    }
  }

  /** Clears the subscribers' counters and samples (connections stay open). */
  async reset(): Promise<void> {
    await Promise.all(
      this.#subscribers.map(async (w) => {
        await request(w, { type: 'reset' }, 'reset-done')
        // IPC keeps order: every tick sent before the reset has arrived by now, so the cached one
        // would otherwise count deliveries from before the reset until the next tick.
        w.tick = { ...w.tick, received: 0, unique: 0 }
      }),
    )
  }

  /** Closes every subscriber connection. */
  async closeSubscribers(): Promise<void> {
    await Promise.all(
      this.#subscribers.map(async (w) => {
        await request(w, { type: 'close-subscribers' }, 'closed')
        w.tick = emptyTick()
      }),
    )
  }

  /** Publishes `count` updates (sequence numbers from `firstSeq`), spread over publisher workers. */
  async publish(endpoint: Endpoint, options: PublishOptions): Promise<PublishSummary> {
    return publishOn(this.#publisherWorkers(options.workers ?? 1), endpoint, options)
  }

  /**
   * Runs token streams (one topic and one keep-alive connection each, spread over `workers`
   * publisher processes); their connections stay open for the next call until
   * {@link closeStreams}.
   */
  async stream(endpoint: Endpoint, options: StreamOptions): Promise<StreamSummary> {
    return streamOn(this.#publisherWorkers(options.workers ?? 2), endpoint, options)
  }

  /** Closes the token streams' connections. */
  async closeStreams(): Promise<void> {
    await closeStreamsOn(this.#publishers)
  }

  /** The first `count` publisher workers, forked when fewer run. */
  #publisherWorkers(count: number): WorkerProcess[] {
    while (this.#publishers.length < count) this.#publishers.push(spawnWorker())
    return this.#publishers.slice(0, count)
  }

  /** Closes every connection and ends every worker. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    await Promise.all([...this.#subscribers, ...this.#publishers].map(endWorker))
  }
}

function log(label: string | undefined, text: string): void {
  if (label !== undefined) console.log(`    [${label}] ${text}`)
}

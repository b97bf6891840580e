// The load generator's parent side: forks worker processes (worker.ts), spreads subscriber
// connections and publishes over them, waits for deliveries with a deadline and progress lines,
// and merges what the workers measured. Every operation is bounded in count and time.

import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type {
  CollectReport,
  PublishCommand,
  PublishedReport,
  PublishTemplate,
  SubscribedReport,
  TickReport,
  WorkerCommand,
  WorkerReport,
} from './protocol.ts'
import { concatSamples } from './stats.ts'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const { BENCH_WORKER_NODE_ARGS: WORKER_NODE_ARGS } = process.env

/** Where the server under test listens. */
export interface Endpoint {
  host: string
  /** Where subscribers connect. */
  port: number
  /** Where publishers connect, when not `port` (two nodes). */
  publishPort?: number
}

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

/** Options of {@link LoadGenerator.publish}. */
export interface PublishOptions {
  template: PublishTemplate
  topics: string[]
  count: number
  /** The first sequence number (the others follow it). Defaults to `0`. */
  firstSeq?: number
  /** Keep-alive connections in all (spread over the publisher workers). Defaults to `1`. */
  connections?: number
  /** Updates per second in all, or `null` (the default) for as fast as acknowledged. */
  rate?: number | null
  /** Defaults to `100`. */
  payloadBytes?: number
  /** Hard stop. */
  durationMs: number
  warmupMs?: number
  captureSeqs?: number[]
  /** Publisher processes. Defaults to `1`. */
  workers?: number
}

/** What the publishers measured, merged. */
export interface PublishSummary {
  sent: number
  acknowledged: number
  acknowledgedInWindow: number
  windowMs: number
  failures: Record<string, number>
  ackLatencies: Float64Array
  firstSendNs: number
  lastAckNs: number
  captured: Record<string, string>
  generatorCpuMs: number
}

/** Gets the progress of labelled waits (connections, deliveries): {@link LoadGenerator.reportTo}. */
export type WaitReport = (label: string, done: number, total: number | null, detail: string) => void

/** How often a labelled wait reports: lines every 2 s, or a progress bar 4 times a second. */
const LINE_EVERY_MS = 2000
const REPORT_EVERY_MS = 250

interface Worker {
  child: ChildProcess
  tick: TickReport
  waiters: Map<string, Array<{ resolve: (r: WorkerReport) => void; reject: (e: Error) => void }>>
}

const nowNs = (): number => Number(process.hrtime.bigint())

/** Forks and drives the worker processes. Call {@link stop} when done. */
export class LoadGenerator {
  readonly #subscribers: Worker[]
  readonly #publishers: Worker[] = []
  #stopped = false
  #report: WaitReport | null = null

  private constructor(subscribers: Worker[]) {
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
          worker.tick = {
            type: 'tick',
            connected: 0,
            failed: 0,
            received: 0,
            unique: 0,
            dropped: 0,
          }
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
        w.tick = { type: 'tick', connected: 0, failed: 0, received: 0, unique: 0, dropped: 0 }
      }),
    )
  }

  /** Publishes `count` updates (sequence numbers from `firstSeq`), spread over publisher workers. */
  async publish(endpoint: Endpoint, options: PublishOptions): Promise<PublishSummary> {
    const workers = options.workers ?? 1
    while (this.#publishers.length < workers) this.#publishers.push(spawnWorker())
    const used = this.#publishers.slice(0, workers)
    const connections = options.connections ?? 1
    const reports = await Promise.all(
      used.map((worker, w) => {
        const command: PublishCommand = {
          type: 'publish',
          host: endpoint.host,
          port: endpoint.publishPort ?? endpoint.port,
          template: options.template,
          topics: options.topics,
          seqStart: (options.firstSeq ?? 0) + w,
          seqStride: workers,
          count: Math.ceil((options.count - w) / workers),
          connections: Math.max(1, Math.round(connections / workers)),
          rate: options.rate == null ? null : options.rate / workers,
          payloadBytes: options.payloadBytes ?? 100,
          durationMs: options.durationMs,
          warmupMs: options.warmupMs ?? 0,
          captureSeqs: options.captureSeqs ?? [],
        }
        // The worker answers once it is done: allow its whole duration plus a margin.
        return request<PublishedReport>(worker, command, 'published', options.durationMs + 30_000)
      }),
    )
    const failures: Record<string, number> = {}
    for (const report of reports) {
      for (const [why, n] of Object.entries(report.failures))
        failures[why] = (failures[why] ?? 0) + n
    }
    const firsts = reports.map((r) => r.firstSendNs).filter((t) => t > 0)
    return {
      sent: reports.reduce((n, r) => n + r.sent, 0),
      acknowledged: reports.reduce((n, r) => n + r.acknowledged, 0),
      acknowledgedInWindow: reports.reduce((n, r) => n + r.acknowledgedInWindow, 0),
      windowMs: Math.max(...reports.map((r) => r.windowMs)),
      failures,
      ackLatencies: concatSamples(reports.map((r) => r.ackLatencies)),
      firstSendNs: firsts.length > 0 ? Math.min(...firsts) : 0,
      lastAckNs: Math.max(...reports.map((r) => r.lastAckNs)),
      captured: Object.assign({}, ...reports.map((r) => r.captured)),
      generatorCpuMs: reports.reduce((n, r) => n + r.cpuMs, 0),
    }
  }

  /** Closes every connection and ends every worker. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return
    this.#stopped = true
    const all = [...this.#subscribers, ...this.#publishers]
    await Promise.all(
      all.map(
        (worker) =>
          new Promise<void>((resolve) => {
            const { child } = worker
            if (child.exitCode !== null || child.signalCode !== null) return resolve()
            const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
            child.once('exit', () => {
              clearTimeout(timer)
              resolve()
            })
            if (child.connected) child.send({ type: 'exit' } satisfies WorkerCommand)
            else child.kill('SIGTERM')
          }),
      ),
    )
  }
}

function spawnWorker(): Worker {
  const child = fork(WORKER, [], {
    cwd: ROOT,
    // BENCH_WORKER_NODE_ARGS adds Node flags to the workers (e.g. `--cpu-prof`, to profile them).
    execArgv: ['--import', 'tsx', ...(WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const worker: Worker = {
    child,
    tick: { type: 'tick', connected: 0, failed: 0, received: 0, unique: 0, dropped: 0 },
    waiters: new Map(),
  }
  const failAll = (error: Error): void => {
    for (const list of worker.waiters.values()) for (const waiter of list) waiter.reject(error)
    worker.waiters.clear()
  }
  child.on('message', (report: WorkerReport) => {
    if (report.type === 'tick') {
      worker.tick = report
      return
    }
    if (report.type === 'error') {
      failAll(new Error(`load worker ${child.pid}: ${report.message}`))
      return
    }
    const list = worker.waiters.get(report.type)
    list?.shift()?.resolve(report)
  })
  child.on('exit', (code, signal) => {
    failAll(new Error(`load worker ${child.pid} exited (${signal ?? code})`))
  })
  return worker
}

function request<R extends WorkerReport>(
  worker: Worker,
  command: WorkerCommand,
  replyType: R['type'],
  timeoutMs = 120_000,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `load worker ${worker.child.pid} did not answer ${command.type} in ${timeoutMs} ms`,
        ),
      )
    }, timeoutMs)
    const list = worker.waiters.get(replyType) ?? []
    worker.waiters.set(replyType, list)
    list.push({
      resolve: (report) => {
        clearTimeout(timer)
        resolve(report as R)
      },
      reject: (error) => {
        clearTimeout(timer)
        reject(error)
      },
    })
    worker.child.send(command)
  })
}

function log(label: string | undefined, text: string): void {
  if (label !== undefined) console.log(`    [${label}] ${text}`)
}

// Token streaming: the shape of language-model answers and agent progress, where every subscriber
// has its own topic and every message is a publish. 1,000 subscribers, each on its own topic, each
// fed by its own keep-alive publisher connection (1,000 sockets over 2 publisher processes), first
// paced at 50 updates/s per stream (50,000 publishes/s in all) for 10 s after 1 s of warm-up, then
// back to back (one request in flight per connection) for at most 3 s or 1,000 updates a stream.
// Sizes of `data` are drawn from 30 to 200 bytes by a seeded generator: every peer gets the same.
//
//   node --import tsx bench/token-streaming.bench.ts --out /tmp/x [--peers …] [--set seconds=5]
//
// Measures the publishes acknowledged per second while paced (against the 50,000/s target; a peer
// that cannot keep up sends late, and fewer: how late its schedule got is shown) and back to back
// (the most it accepts), publish-to-receive latency while paced, the server's CPU per publish
// while paced (from /proc; each publish is one delivery), and lost and duplicate deliveries per
// stream: every acknowledged update must reach its stream's subscriber exactly once (the streams
// share their sequence numbers, so an update sent to the wrong subscriber shows as a duplicate
// there). Every peer: ssehub (SQLite, memory), the raw node:http ceiling, Nchan. Writes
// token-streaming.{json,svg}.

import { availableParallelism } from 'node:os'
import { reporting, subscribeAll } from './load/measure.ts'
import { readProcs } from './load/proc-stats.ts'
import { isMain, runScenarioCli } from './load/scenario.ts'
import type { RunContext, Scenario } from './load/scenario-types.ts'
import { summarizeLatency } from './load/stats.ts'
import type { StreamSummary } from './load/streams.ts'

/** Parameters of {@link tokenStreaming}; every one can be set with `--set key=value`. */
export interface TokenStreamingParams {
  /** Subscribers, topics and publisher connections, one of each per stream. */
  streams: number
  /** Updates per second per stream, while paced. */
  rate: number
  /** Paced seconds measured, after `warmupSeconds` of the same pace. */
  seconds: number
  warmupSeconds: number
  /** Back-to-back phase: at most this long, and at most `fastCount` updates per stream. */
  fastSeconds: number
  fastCount: number
  /** Bytes of `data`, drawn uniformly in this range. */
  payloadMin: number
  payloadMax: number
  /** Publisher processes the connections are spread over. */
  publisherWorkers: number
  /** Seeds the sizes of `data`: the same for every peer of a run. */
  seed: number
}

/** One phase of streams, measured: what the publishers and subscribers saw, and the CPU. */
interface Phase {
  streams: StreamSummary
  lost: number
  duplicates: number
  dropped: number
  foreign: number
  samples: Float64Array
  serverCpuMs: number
  generatorCpuMs: number
  /** From the phase's start to its last acknowledgement (or its nominal length), s. */
  seconds: number
  why: 'met' | 'timeout' | 'stalled'
}

/** The token-streaming scenario, as `npm run bench` runs it. */
export const tokenStreaming: Scenario<TokenStreamingParams> = {
  id: 'token-streaming',
  title: 'Token streaming: 1,000 topics, one publisher connection and one subscriber each',
  description:
    '1,000 subscribers, each on its own topic, each fed by its own keep-alive publisher connection with updates of 30–200 bytes: paced at 50/s per stream (50,000 publishes/s in all) for 10 s after 1 s of warm-up, then back to back (one request in flight per connection) for 3 s.',
  defaults: {
    streams: 1000,
    rate: 50,
    seconds: 10,
    warmupSeconds: 1,
    fastSeconds: 3,
    fastCount: 1000,
    payloadMin: 30,
    payloadMax: 200,
    publisherWorkers: 2,
    seed: 1,
  },
  metrics: [
    { key: 'pacedPerSecond', label: 'paced publishes/s', unit: '/s', better: 'higher' },
    { key: 'lateMax', label: 'pacing late, max', unit: 'ms', better: 'lower', chart: false },
    { key: 'fastPerSecond', label: 'max publishes/s', unit: '/s', better: 'higher' },
    { key: 'p50', label: 'p50', unit: 'ms', better: 'lower', chart: false },
    { key: 'p99', label: 'p99', unit: 'ms', better: 'lower' },
    { key: 'cpuMicrosPerPublish', label: 'CPU/publish', unit: 'µs', better: 'lower' },
  ],
  timeoutMs: (p) =>
    60_000 + p.streams * 20 + (p.warmupSeconds + p.seconds + p.fastSeconds) * 1000 * 3,
  async run(context) {
    try {
      return await measure(context)
    } finally {
      await context.gen.closeStreams()
    }
  },
}

async function measure({ peer, gen, params, log }: RunContext<TokenStreamingParams>) {
  const topics = Array.from({ length: params.streams }, (_, i) => `s${i}`)
  const warmCount = Math.round(params.rate * params.warmupSeconds)
  const pacedCount = Math.round(params.rate * params.seconds)
  const subscribed = await subscribeAll(
    gen,
    peer,
    topics.map((topic) => peer.subscribePath(topic)),
    { seqSpace: warmCount + pacedCount + params.fastCount, label: 'subscribe' },
  )
  log(`${subscribed.connected} subscribers in ${subscribed.connectMs.toFixed(0)} ms`)
  const common = {
    template: peer.publishTemplate(),
    topics,
    payloadMin: params.payloadMin,
    payloadMax: params.payloadMax,
    seed: params.seed,
    workers: params.publisherWorkers,
  }
  // A period of grace, so the last update of the streams staggered latest is still due in time.
  const pacedMs = (seconds: number): number => seconds * 1000 + 1000 / params.rate

  const phase = async (
    label: string,
    options: { firstSeq: number; count: number; rate: number | null; durationMs: number },
  ): Promise<Phase> => {
    await gen.reset()
    const pids = peer.pids()
    const cpuBefore = readProcs(pids).cpuMs
    const genBefore = readProcs(gen.pids).cpuMs
    // Back to back, the count is a bound far above what arrives in the time: no total.
    const total = options.rate === null ? null : options.count * topics.length
    const streams = await reporting(gen, label, total, gen.stream(peer, { ...common, ...options }))
    const expected = streams.acknowledged
    const waited = await gen.waitFor((t) => t.unique >= expected, {
      timeoutMs: 30_000,
      idleMs: 3000,
      label,
      expected,
    })
    const serverCpuMs = readProcs(pids).cpuMs - cpuBefore
    const generatorCpuMs = readProcs(gen.pids).cpuMs - genBefore
    const collected = await gen.collect()
    let lost = 0
    streams.acknowledgedPerStream.forEach((acked, i) => {
      lost += Math.max(0, acked - (collected.uniquePerConnection[i] ?? 0))
    })
    const nominal = options.rate === null ? 0 : options.durationMs / 1000 - 1 / options.rate
    const from = options.rate === null ? streams.firstSendNs : streams.startNs
    return {
      streams,
      lost,
      duplicates: collected.duplicates,
      dropped: collected.dropped,
      foreign: collected.foreign,
      samples: collected.samples,
      serverCpuMs,
      generatorCpuMs,
      seconds: Math.max(nominal, (streams.lastAckNs - from) / 1e9, 1e-9),
      why: waited.why,
    }
  }

  await phase('warm-up', {
    firstSeq: 0,
    count: warmCount,
    rate: params.rate,
    durationMs: pacedMs(params.warmupSeconds),
  })
  const paced = await phase('paced', {
    firstSeq: warmCount,
    count: pacedCount,
    rate: params.rate,
    durationMs: pacedMs(params.seconds),
  })
  const fast = await phase('back to back', {
    firstSeq: warmCount + pacedCount,
    count: params.fastCount,
    rate: null,
    durationMs: params.fastSeconds * 1000,
  })

  const latency = summarizeLatency(paced.samples)
  const fastLatency = summarizeLatency(fast.samples)
  const lateness = summarizeLatency(paced.streams.lateness)
  const pacedPerSecond = paced.streams.acknowledged / paced.seconds
  const target = params.rate * params.streams
  const notes: string[] = []
  if (subscribed.failed > 0) {
    notes.push(
      `${subscribed.failed} subscribers failed to connect: ${JSON.stringify(subscribed.failures)}`,
    )
  }
  const failures = mergeCounts(paced.streams.failures, fast.streams.failures)
  if (Object.keys(failures).length > 0) {
    notes.push(`publishes refused or failed, by status: ${JSON.stringify(failures)}`)
  }
  for (const [name, p] of [
    ['paced', paced],
    ['back to back', fast],
  ] as const) {
    if (p.why !== 'met') notes.push(`${name}: stopped waiting for deliveries: ${p.why}`)
  }
  // Both counters run from the subscriptions on: the last phase's values are the totals.
  if (fast.dropped > 0) notes.push(`${fast.dropped} subscriber connections dropped by the server`)
  if (fast.foreign > 0) notes.push(`${fast.foreign} events that were not bench payloads`)
  const share = (ms: number, seconds: number): string =>
    `${((ms / 1000 / seconds) * 100).toFixed(0)} %`
  // Every publish costs the generator about what it costs the server (mostly the kernel's
  // loopback socket work on both sides): say so when the two together filled the machine.
  const cores = availableParallelism()
  for (const [name, p] of [
    ['paced', paced],
    ['back to back', fast],
  ] as const) {
    const busy = (p.generatorCpuMs + p.serverCpuMs) / 1000 / p.seconds
    if (busy >= 0.85 * cores) {
      notes.push(
        `${name}: generator and server together kept ${busy.toFixed(1)} of the ${cores} cores busy: the rate is the machine's limit; compare CPU/publish`,
      )
    }
  }
  notes.push(
    `paced: ${Math.round(pacedPerSecond).toLocaleString('en-US')}/s of the ${target.toLocaleString('en-US')}/s target (${((pacedPerSecond / target) * 100).toFixed(0)} %); pacing late p99 ${lateness.p99.toFixed(1)} ms, max ${lateness.max.toFixed(1)} ms; ${((paced.streams.payloadBytes / paced.seconds) * 8e-6).toFixed(1)} Mbit/s of data; generator used ${share(paced.generatorCpuMs, paced.seconds)} of a core, server ${share(paced.serverCpuMs, paced.seconds)}`,
    `back to back: ${fast.streams.acknowledged.toLocaleString('en-US')} acknowledged in ${fast.seconds.toFixed(1)} s, p50 ${fastLatency.p50.toFixed(1)} ms, p99 ${fastLatency.p99.toFixed(1)} ms, CPU/publish ${((fast.serverCpuMs * 1000) / Math.max(1, fast.streams.acknowledged)).toFixed(1)} µs; generator used ${share(fast.generatorCpuMs, fast.seconds)} of a core, server ${share(fast.serverCpuMs, fast.seconds)}`,
  )
  return {
    metrics: {
      pacedPerSecond,
      lateMax: lateness.max,
      fastPerSecond: fast.streams.acknowledged / fast.seconds,
      p50: latency.p50,
      p99: latency.p99,
      cpuMicrosPerPublish: (paced.serverCpuMs * 1000) / Math.max(1, paced.streams.acknowledged),
    },
    lost: paced.lost + fast.lost,
    duplicates: paced.duplicates + fast.duplicates,
    failedConnections: subscribed.failed + fast.dropped,
    latencySamples: paced.samples.length + fast.samples.length,
    notes,
  }
}

function mergeCounts(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out = { ...a }
  for (const [key, n] of Object.entries(b)) out[key] = (out[key] ?? 0) + n
  return out
}

if (isMain(import.meta.url)) await runScenarioCli(tokenStreaming)

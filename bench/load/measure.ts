// The measuring step most scenarios share: publish a bounded batch of updates to subscribers
// that are already connected, wait until every expected delivery arrived (or stalled, or timed
// out), and read deliveries, losses, duplicates, latency and server CPU.

import type { RunningPeer } from '../peers/peer.ts'
import type { Collected, LoadGenerator, SubscribeResult } from './generator.ts'
import { readProcs } from './proc-stats.ts'
import type { PublishSummary } from './publishing.ts'
import type { PeerResult } from './scenario-types.ts'
import { type LatencySummary, summarizeLatency } from './stats.ts'

/** Subscribes and turns failures into a note; throws if nobody could connect. */
export async function subscribeAll(
  gen: LoadGenerator,
  peer: RunningPeer,
  paths: string[],
  options: {
    seqSpace: number
    headers?: Record<string, string>
    label: string
    maxSamples?: number
  },
): Promise<SubscribeResult> {
  const result = await gen.subscribe(peer, paths, {
    seqSpace: options.seqSpace,
    label: options.label,
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.maxSamples ? { maxSamples: options.maxSamples } : {}),
  })
  if (result.connected === 0) {
    throw new Error(`no subscriber could connect: ${JSON.stringify(result.failures)}`)
  }
  return result
}

/** What {@link publishAndCollect} measured. */
export interface Delivery {
  published: PublishSummary
  collected: Collected
  latency: LatencySummary
  /** Server CPU time from just before publishing to the last delivery, in ms. */
  serverCpuMs: number
  /** Generator CPU time over the same span, in ms (all workers). */
  generatorCpuMs: number
  /** From the first publish to the last delivery, in seconds. */
  seconds: number
  /** Deliveries expected and missing. */
  lost: number
  why: 'met' | 'timeout' | 'stalled'
}

/** Publishes, waits for `expected(acknowledged)` distinct deliveries, and measures. */
export async function publishAndCollect(
  gen: LoadGenerator,
  peer: RunningPeer,
  options: {
    topics: string[]
    count: number
    connections: number
    rate?: number | null
    wildcard?: boolean
    firstSeq?: number
    /** Bytes of `data` per update. Defaults to `100`. */
    payloadBytes?: number
    /** Deliveries expected once `acknowledged` updates were accepted. */
    expected: (acknowledged: number) => number
    timeoutMs: number
    label: string
    /**
     * Updates published (at the same pace) and awaited before measuring, so JIT compilation and
     * first-time allocations are not measured. Defaults to `0`.
     */
    warmup?: number
  },
): Promise<Delivery> {
  const warmup = options.warmup ?? 0
  if (warmup > 0) {
    const rate = options.rate ?? null
    const warm = await reporting(
      gen,
      `${options.label} warm-up`,
      options.expected(warmup),
      gen.publish(peer, {
        template: peer.publishTemplate(options.wildcard ?? false),
        topics: options.topics,
        count: warmup,
        connections: options.connections,
        rate,
        durationMs: options.timeoutMs,
        ...(options.payloadBytes === undefined ? {} : { payloadBytes: options.payloadBytes }),
      }),
    )
    const expected = options.expected(warm.acknowledged)
    await gen.waitFor((t) => t.unique >= expected, { timeoutMs: options.timeoutMs, idleMs: 3000 })
  }
  await gen.reset()
  const pids = peer.pids()
  const cpuBefore = readProcs(pids).cpuMs
  const genBefore = readProcs(gen.pids).cpuMs
  const published = await reporting(
    gen,
    options.label,
    options.expected(options.count),
    gen.publish(peer, {
      template: peer.publishTemplate(options.wildcard ?? false),
      topics: options.topics,
      count: options.count,
      connections: options.connections,
      rate: options.rate ?? null,
      durationMs: options.timeoutMs,
      ...(options.firstSeq === undefined ? {} : { firstSeq: options.firstSeq }),
      ...(options.payloadBytes === undefined ? {} : { payloadBytes: options.payloadBytes }),
    }),
  )
  const expected = options.expected(published.acknowledged)
  const waited = await gen.waitFor((t) => t.unique >= expected, {
    timeoutMs: options.timeoutMs,
    idleMs: 3000,
    label: options.label,
    expected,
  })
  const serverCpuMs = readProcs(pids).cpuMs - cpuBefore
  const generatorCpuMs = readProcs(gen.pids).cpuMs - genBefore
  const collected = await gen.collect()
  const end = collected.lastReceiveNs > 0 ? collected.lastReceiveNs : published.lastAckNs
  return {
    published,
    collected,
    latency: summarizeLatency(collected.samples),
    serverCpuMs,
    generatorCpuMs,
    seconds: Math.max(1e-9, (end - published.firstSendNs) / 1e9),
    lost: Math.max(0, expected - collected.unique),
    why: waited.why,
  }
}

/**
 * Awaits `publishing` while reporting the deliveries received so far against `expected` (for
 * a progress bar; `null` when unknown) 4 times a second, from this process: the publishers are
 * worker processes and report only once done.
 */
export async function reporting<T>(
  gen: LoadGenerator,
  label: string,
  expected: number | null,
  publishing: Promise<T>,
): Promise<T> {
  const timer = setInterval(() => {
    const t = gen.totals()
    gen.report(label, t.unique, expected, `${t.dropped} dropped`)
  }, 250)
  try {
    return await publishing
  } finally {
    clearInterval(timer)
  }
}

/** The notes every delivery scenario adds: failures, stalls, generator load. */
export function deliveryNotes(delivery: Delivery, subscribed?: SubscribeResult): string[] {
  const notes: string[] = []
  const { published, collected } = delivery
  if (subscribed && subscribed.failed > 0) {
    notes.push(
      `${subscribed.failed} subscribers failed to connect: ${JSON.stringify(subscribed.failures)}`,
    )
  }
  if (Object.keys(published.failures).length > 0) {
    notes.push(`publishes refused or failed, by status: ${JSON.stringify(published.failures)}`)
  }
  if (delivery.why !== 'met') notes.push(`stopped waiting for deliveries: ${delivery.why}`)
  if (collected.dropped > 0)
    notes.push(`${collected.dropped} subscriber connections dropped by the server`)
  if (collected.foreign > 0) notes.push(`${collected.foreign} events that were not bench payloads`)
  if (collected.samplesDropped > 0)
    notes.push(`${collected.samplesDropped} latency samples not kept`)
  const genCores = delivery.generatorCpuMs / 1000 / delivery.seconds
  notes.push(
    `generator used ${(genCores * 100).toFixed(0)} % of a core; server ${((delivery.serverCpuMs / 1000 / delivery.seconds) * 100).toFixed(0)} %`,
  )
  return notes
}

/** A {@link PeerResult} from a delivery, with the given metrics. */
/** Deliveries/s, server CPU µs per delivery and acknowledged publishes/s of a measured run. */
export function throughput(delivery: Delivery): {
  deliveriesPerSecond: number
  cpuMicrosPerDelivery: number
  publishesPerSecond: number
} {
  const { published, collected } = delivery
  return {
    deliveriesPerSecond: collected.unique / delivery.seconds,
    cpuMicrosPerDelivery: (delivery.serverCpuMs * 1000) / Math.max(1, collected.unique),
    publishesPerSecond:
      published.acknowledged / Math.max(1e-9, (published.lastAckNs - published.firstSendNs) / 1e9),
  }
}

export function deliveryResult(
  delivery: Delivery,
  metrics: Record<string, number>,
  subscribed?: SubscribeResult,
): PeerResult {
  return {
    metrics,
    lost: delivery.lost,
    duplicates: delivery.collected.duplicates,
    failedConnections: (subscribed?.failed ?? 0) + delivery.collected.dropped,
    latencySamples: delivery.collected.samples.length,
    notes: deliveryNotes(delivery, subscribed),
  }
}

// Token streams, the parent's side: splits the streams (one topic and one keep-alive connection
// each) over the publisher worker processes in contiguous blocks, and merges what they measured
// back into the streams' order. The worker's side is stream-publisher.ts.

import type { Endpoint } from './endpoint.ts'
import type { PublishTemplate, StreamCommand, StreamedReport } from './protocol.ts'
import { concatSamples } from './stats.ts'
import { request, type WorkerProcess } from './worker-process.ts'

/** Options of {@link LoadGenerator.stream}. */
export interface StreamOptions {
  template: PublishTemplate
  /** One topic per stream; stream `i` publishes only to `topics[i]`, on its own connection. */
  topics: string[]
  /** Each stream's first sequence number. Defaults to `0`. */
  firstSeq?: number
  /** Updates per stream at most. */
  count: number
  /** Updates per second per stream, or `null` (the default) for back to back. */
  rate?: number | null
  /** Bytes of `data` per update, drawn uniformly in [min, max]. Defaults to `100`…`100`. */
  payloadMin?: number
  payloadMax?: number
  /** Seeds the sizes, so every peer gets the same ones. Defaults to `1`. */
  seed?: number
  /** Hard stop, in ms. */
  durationMs: number
  /** Publisher processes the streams are spread over. Defaults to `2`. */
  workers?: number
}

/**
 * What the streams measured, merged: their reports' fields (`startNs` the earliest schedule
 * start), with the CPU time of the publisher workers so far, ms.
 */
export interface StreamSummary extends Omit<StreamedReport, 'type' | 'cpuMs'> {
  generatorCpuMs: number
}

/** Runs the streams of `options` on `workers`; resolves once every worker is done. */
export async function streamOn(
  workers: readonly WorkerProcess[],
  endpoint: Endpoint,
  options: StreamOptions,
): Promise<StreamSummary> {
  const per = Math.ceil(options.topics.length / workers.length)
  const used = workers.filter((_, w) => w * per < options.topics.length)
  const reports = await Promise.all(
    used.map((worker, w) => {
      const command: StreamCommand = {
        type: 'stream',
        host: endpoint.host,
        port: endpoint.publishPort ?? endpoint.port,
        template: options.template,
        topics: options.topics.slice(w * per, (w + 1) * per),
        firstStream: w * per,
        totalStreams: options.topics.length,
        seqStart: options.firstSeq ?? 0,
        count: options.count,
        rate: options.rate ?? null,
        payloadMin: options.payloadMin ?? 100,
        payloadMax: options.payloadMax ?? options.payloadMin ?? 100,
        seed: options.seed ?? 1,
        durationMs: options.durationMs,
      }
      return request<StreamedReport>(worker, command, 'streamed', options.durationMs + 30_000)
    }),
  )
  const failures: Record<string, number> = {}
  for (const report of reports) {
    for (const [why, n] of Object.entries(report.failures)) failures[why] = (failures[why] ?? 0) + n
  }
  const acknowledgedPerStream = new Uint32Array(options.topics.length)
  reports.forEach((report, w) => {
    acknowledgedPerStream.set(report.acknowledgedPerStream, w * per)
  })
  const firsts = reports.map((r) => r.firstSendNs).filter((t) => t > 0)
  const sum = (key: 'sent' | 'acknowledged' | 'payloadBytes' | 'cpuMs'): number =>
    reports.reduce((n, r) => n + r[key], 0)
  return {
    sent: sum('sent'),
    acknowledged: sum('acknowledged'),
    acknowledgedPerStream,
    failures,
    payloadBytes: sum('payloadBytes'),
    lateness: concatSamples(reports.map((r) => r.lateness)),
    startNs: Math.min(...reports.map((r) => r.startNs)),
    firstSendNs: firsts.length > 0 ? Math.min(...firsts) : 0,
    lastAckNs: Math.max(0, ...reports.map((r) => r.lastAckNs)),
    generatorCpuMs: sum('cpuMs'),
  }
}

/** Closes the streams' connections in every worker. */
export async function closeStreamsOn(workers: readonly WorkerProcess[]): Promise<void> {
  await Promise.all(workers.map((w) => request(w, { type: 'close-streams' }, 'streams-closed')))
}

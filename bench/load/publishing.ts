// The parent side of publishing: splits a batch of updates over the publisher worker processes
// (each with its share of the connections, the rate and the sequence numbers) and merges what
// they measured.

import type { Endpoint } from './endpoint.ts'
import type { PublishCommand, PublishedReport, PublishTemplate } from './protocol.ts'
import { concatSamples } from './stats.ts'
import { request, type WorkerProcess } from './worker-process.ts'

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

/** What the publishers measured, merged: their reports' fields, with the CPU time of them all. */
export interface PublishSummary extends Omit<PublishedReport, 'type' | 'cpuMs'> {
  generatorCpuMs: number
}

/** Publishes `options.count` updates over `workers`, each taking every `workers.length`-th one. */
export async function publishOn(
  workers: readonly WorkerProcess[],
  endpoint: Endpoint,
  options: PublishOptions,
): Promise<PublishSummary> {
  const connections = options.connections ?? 1
  const reports = await Promise.all(
    workers.map((worker, w) => {
      const command: PublishCommand = {
        type: 'publish',
        host: endpoint.host,
        port: endpoint.publishPort ?? endpoint.port,
        template: options.template,
        topics: options.topics,
        seqStart: (options.firstSeq ?? 0) + w,
        seqStride: workers.length,
        count: Math.ceil((options.count - w) / workers.length),
        connections: Math.max(1, Math.round(connections / workers.length)),
        rate: options.rate == null ? null : options.rate / workers.length,
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
    for (const [why, n] of Object.entries(report.failures)) failures[why] = (failures[why] ?? 0) + n
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

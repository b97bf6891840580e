// Durable publish over HTTP: acknowledged publishes per second at 64 concurrent publishers.
//
//   node --import tsx bench/durable-http.bench.ts [--peers …] [--set seconds=3]
//
// 64 keep-alive connections (over 2 publisher processes) each POST an update of 100 bytes to one
// of 8 topics, wait for the answer, and POST the next, for 1 s of warm-up and then 5 measured
// seconds; no subscribers. For ssehub with SQLite an answer means the update is committed to
// disk (synchronous=full: fsynced), which is the figure that counts; ssehub with memory, the raw
// peer and Nchan (shared memory) only keep updates in memory and show what the HTTP path costs.
// Measures acknowledged publishes per second, acknowledgement latency (p50, p99) and the
// server's CPU per publish. The store-level figure is bench/durable-publish.bench.ts.
// Writes bench/results/durable-http.{json,svg}.

import { readProcs } from './load/proc-stats.ts'
import { isMain, runScenarioCli } from './load/scenario.ts'
import type { Scenario } from './load/scenario-types.ts'
import { summarizeLatency } from './load/stats.ts'

export interface DurableParams {
  publishers: number
  seconds: number
  warmupSeconds: number
  workers: number
}

export const durableHttp: Scenario<DurableParams> = {
  id: 'durable-http',
  title: 'Durable publish: 64 concurrent publishers over HTTP',
  description:
    '64 keep-alive publishers, each POSTing its next update as soon as the last is acknowledged; 8 topics, no subscribers, 5 s measured after 1 s of warm-up.',
  defaults: { publishers: 64, seconds: 5, warmupSeconds: 1, workers: 2 },
  metrics: [
    { key: 'acknowledgedPerSecond', label: 'acknowledged/s', unit: '/s', better: 'higher' },
    { key: 'p50', label: 'ack p50', unit: 'ms', better: 'lower', chart: false },
    { key: 'p99', label: 'ack p99', unit: 'ms', better: 'lower' },
    { key: 'cpuMicrosPerPublish', label: 'CPU/publish', unit: 'µs', better: 'lower' },
  ],
  timeoutMs: (p) => 60_000 + (p.seconds + p.warmupSeconds) * 2000,
  async run({ peer, gen, params }) {
    const pids = peer.pids()
    const durationMs = (params.seconds + params.warmupSeconds) * 1000
    const cpuBefore = readProcs(pids).cpuMs
    const published = await gen.publish(peer, {
      template: peer.publishTemplate(),
      topics: Array.from({ length: 8 }, (_, i) => `t${i}`),
      // Bounded by time; the count is only a backstop far above any plausible rate.
      count: 100_000 * (params.seconds + params.warmupSeconds),
      connections: params.publishers,
      workers: params.workers,
      durationMs,
      warmupMs: params.warmupSeconds * 1000,
    })
    const cpuMs = readProcs(pids).cpuMs - cpuBefore
    const latency = summarizeLatency(published.ackLatencies)
    const notes: string[] = []
    if (Object.keys(published.failures).length > 0) {
      notes.push(`refused or failed, by status: ${JSON.stringify(published.failures)}`)
    }
    const seconds = (published.lastAckNs - published.firstSendNs) / 1e9
    notes.push(
      `${published.acknowledged.toLocaleString('en-US')} acknowledged in all; generator used ${((published.generatorCpuMs / 1000 / seconds) * 100).toFixed(0)} % of a core`,
    )
    return {
      metrics: {
        acknowledgedPerSecond: published.acknowledgedInWindow / (published.windowMs / 1000),
        p50: latency.p50,
        p99: latency.p99,
        cpuMicrosPerPublish: (cpuMs * 1000) / Math.max(1, published.acknowledged),
      },
      lost: 0,
      duplicates: 0,
      failedConnections: 0,
      latencySamples: 0,
      notes,
    }
  },
}

if (isMain(import.meta.url)) await runScenarioCli(durableHttp)

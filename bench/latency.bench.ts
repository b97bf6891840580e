// Latency: one topic, 1,000 subscribers, 100-byte updates paced at 100 per second (100,000
// deliveries/s) for 10 seconds.
//
//   node --import tsx bench/latency.bench.ts [--peers …] [--set rate=50] [--set seconds=5]
//
// Measures publish-to-receive latency (p50, p99, p99.9, max) from the send time each publisher
// writes into the payload (hrtime, the same clock in every process of this machine), over every
// delivery; and the server's CPU per delivery at that load. The publisher sends on schedule over
// 4 keep-alive connections; how late it ever was is noted, so a stalled publisher cannot hide
// latency. Writes bench/results/latency.{json,svg}.

import { deliveryResult, publishAndCollect, subscribeAll } from './load/measure.ts'
import { isMain, runScenarioCli } from './load/scenario.ts'
import type { Scenario } from './load/scenario-types.ts'

export interface LatencyParams {
  subscribers: number
  rate: number
  seconds: number
  connections: number
}

export const latency: Scenario<LatencyParams> = {
  id: 'latency',
  title: 'Latency: 1 topic, 1,000 subscribers, 100 updates/s',
  description:
    'One topic, 1,000 subscribers; 100-byte updates paced at 100/s (100,000 deliveries/s) for 10 s.',
  defaults: { subscribers: 1000, rate: 100, seconds: 10, connections: 4 },
  metrics: [
    { key: 'p50', label: 'p50', unit: 'ms', better: 'lower' },
    { key: 'p99', label: 'p99', unit: 'ms', better: 'lower' },
    { key: 'p999', label: 'p99.9', unit: 'ms', better: 'lower' },
    { key: 'max', label: 'max', unit: 'ms', better: 'lower', chart: false },
    { key: 'cpuMicrosPerDelivery', label: 'CPU/delivery', unit: 'µs', better: 'lower' },
  ],
  timeoutMs: (p) => 60_000 + p.seconds * 1000 * 2,
  async run({ peer, gen, params, log }) {
    const updates = Math.round(params.rate * params.seconds)
    const paths = Array.from({ length: params.subscribers }, () => peer.subscribePath('t0'))
    const subscribed = await subscribeAll(gen, peer, paths, {
      seqSpace: updates,
      label: 'subscribe',
    })
    log(`${subscribed.connected} subscribers in ${subscribed.connectMs.toFixed(0)} ms`)
    const delivery = await publishAndCollect(gen, peer, {
      topics: ['t0'],
      count: updates,
      connections: params.connections,
      rate: params.rate,
      expected: (acknowledged) => acknowledged * subscribed.connected,
      timeoutMs: params.seconds * 1000 + 30_000,
      label: 'latency',
      warmup: Math.min(params.rate, updates),
    })
    const { collected, latency: l } = delivery
    const result = deliveryResult(
      delivery,
      {
        p50: l.p50,
        p99: l.p99,
        p999: l.p999,
        max: l.max,
        cpuMicrosPerDelivery: (delivery.serverCpuMs * 1000) / Math.max(1, collected.unique),
      },
      subscribed,
    )
    result.notes.push(
      `${l.count.toLocaleString('en-US')} latency samples; ${Math.round(collected.unique / delivery.seconds).toLocaleString('en-US')} deliveries/s; publisher acknowledged in p99 ${percentileMs(delivery.published.ackLatencies, 0.99)} ms`,
    )
    return result
  },
}

function percentileMs(samples: Float64Array, p: number): string {
  const sorted = Float64Array.from(samples).sort()
  const value = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
  return (value / 1000).toFixed(2)
}

if (isMain(import.meta.url)) await runScenarioCli(latency)

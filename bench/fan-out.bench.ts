// Fan-out: one topic, 1,000 subscribers, 100-byte updates published as fast as the server
// acknowledges them (4 keep-alive connections, one request in flight on each), 1,000 updates
// after 200 of warm-up.
//
//   node --import tsx bench/fan-out.bench.ts [--peers ssehub-memory,nchan] [--set updates=500]
//
// Measures deliveries per second (from the first publish to the last delivery), the server's CPU
// time per delivery (from /proc), publishes acknowledged per second, and publish-to-receive
// latency; counts lost and duplicate deliveries. Every peer: ssehub (SQLite, memory), the raw
// node:http ceiling, Nchan. Writes bench/results/fan-out.{json,svg}.

import { deliveryResult, publishAndCollect, subscribeAll, throughput } from './load/measure.ts'
import { isMain, runScenarioCli } from './load/scenario.ts'
import type { Scenario } from './load/scenario-types.ts'

export interface FanOutParams {
  subscribers: number
  updates: number
  connections: number
}

export const fanOut: Scenario<FanOutParams> = {
  id: 'fan-out',
  title: 'Fan-out: 1 topic, 1,000 subscribers, updates as fast as accepted',
  description:
    'One topic, 1,000 subscribers; 1,000 updates of 100 bytes (after 200 of warm-up) published back to back on 4 keep-alive connections.',
  defaults: { subscribers: 1000, updates: 1000, connections: 4 },
  metrics: [
    { key: 'deliveriesPerSecond', label: 'deliveries/s', unit: '/s', better: 'higher' },
    { key: 'cpuMicrosPerDelivery', label: 'CPU/delivery', unit: 'µs', better: 'lower' },
    { key: 'publishesPerSecond', label: 'publishes/s', unit: '/s', better: 'higher', chart: false },
    { key: 'p50', label: 'p50', unit: 'ms', better: 'lower', chart: false },
    { key: 'p99', label: 'p99', unit: 'ms', better: 'lower' },
  ],
  timeoutMs: (p) => 60_000 + p.subscribers * 10 + p.updates * 20,
  async run({ peer, gen, params, log }) {
    const paths = Array.from({ length: params.subscribers }, () => peer.subscribePath('t0'))
    const subscribed = await subscribeAll(gen, peer, paths, {
      seqSpace: params.updates,
      label: 'subscribe',
    })
    log(`${subscribed.connected} subscribers in ${subscribed.connectMs.toFixed(0)} ms`)
    await peer.settle?.()
    const delivery = await publishAndCollect(gen, peer, {
      topics: ['t0'],
      count: params.updates,
      connections: params.connections,
      expected: (acknowledged) => acknowledged * subscribed.connected,
      timeoutMs: 60_000,
      label: 'fan-out',
      warmup: Math.min(200, params.updates),
    })
    const { latency } = delivery
    return deliveryResult(
      delivery,
      {
        ...throughput(delivery),
        p50: latency.p50,
        p99: latency.p99,
      },
      subscribed,
    )
  },
}

if (isMain(import.meta.url)) await runScenarioCli(fanOut)

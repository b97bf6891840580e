// Fan-out with realistic payloads: the fan-out scenario (one topic, 1,000 subscribers, updates
// back to back on 4 keep-alive connections) with updates of 4 KiB and of 32 KiB instead of 100
// bytes, as two scenarios: `fan-out-4k` (500 updates after 100 of warm-up, 2 GB delivered) and
// `fan-out-32k` (100 after 20, 3.3 GB). Real updates (a rendered fragment, a JSON document, a
// chunk of an answer) are rarely 100 bytes; here copying and socket writes, not per-event work,
// set the pace.
//
//   node --import tsx bench/fan-out-payloads.bench.ts --out /tmp/x [--peers …] [--set updates=50]
//
// Measures deliveries per second and megabytes of `data` delivered per second (from the first
// publish to the last delivery), the server's CPU time per delivery (from /proc) and
// publish-to-receive latency; counts lost and duplicate deliveries. Every peer: ssehub (SQLite,
// memory), the raw node:http ceiling, Nchan. `--set` applies to both scenarios. Writes
// fan-out-4k.{json,svg} and fan-out-32k.{json,svg}.

import { deliveryResult, publishAndCollect, subscribeAll, throughput } from './load/measure.ts'
import { isMain, runScenarioCli } from './load/scenario.ts'
import type { Scenario } from './load/scenario-types.ts'

/** Parameters of {@link fanOut4k} and {@link fanOut32k}. */
export interface FanOutPayloadParams {
  subscribers: number
  updates: number
  /** Updates published and awaited before measuring. */
  warmup: number
  connections: number
  /** Bytes of `data` per update. */
  payloadBytes: number
}

/** The fan-out scenario with updates of `size` (`defaults.payloadBytes`), under its own id. */
function fanOutWith(
  id: string,
  size: string,
  defaults: FanOutPayloadParams,
): Scenario<FanOutPayloadParams> {
  return {
    id,
    title: `Fan-out of ${size} updates: 1 topic, 1,000 subscribers, as fast as accepted`,
    description: `One topic, 1,000 subscribers; ${defaults.updates.toLocaleString('en-US')} updates of ${size} (after ${defaults.warmup} of warm-up) published back to back on 4 keep-alive connections.`,
    defaults,
    metrics: [
      { key: 'deliveriesPerSecond', label: 'deliveries/s', unit: '/s', better: 'higher' },
      // The unit is in the label: a `/s` unit is left out of the headers.
      { key: 'megabytesPerSecond', label: 'data MB/s', unit: '/s', better: 'higher' },
      { key: 'cpuMicrosPerDelivery', label: 'CPU/delivery', unit: 'µs', better: 'lower' },
      { key: 'p50', label: 'p50', unit: 'ms', better: 'lower', chart: false },
      { key: 'p99', label: 'p99', unit: 'ms', better: 'lower' },
    ],
    peerOptions: (p) => ({ history: p.updates + p.warmup }),
    timeoutMs: (p) =>
      60_000 + p.subscribers * 10 + ((p.updates + p.warmup) * p.subscribers * p.payloadBytes) / 1e5,
    async run({ peer, gen, params, log }) {
      const paths = Array.from({ length: params.subscribers }, () => peer.subscribePath('t0'))
      const subscribed = await subscribeAll(gen, peer, paths, {
        seqSpace: params.updates,
        label: 'subscribe',
      })
      log(`${subscribed.connected} subscribers in ${subscribed.connectMs.toFixed(0)} ms`)
      const delivery = await publishAndCollect(gen, peer, {
        topics: ['t0'],
        count: params.updates,
        connections: params.connections,
        payloadBytes: params.payloadBytes,
        expected: (acknowledged) => acknowledged * subscribed.connected,
        timeoutMs: 60_000,
        label: `fan-out ${size}`,
        warmup: Math.min(params.warmup, params.updates),
      })
      const { latency } = delivery
      const { deliveriesPerSecond, cpuMicrosPerDelivery } = throughput(delivery)
      return deliveryResult(
        delivery,
        {
          deliveriesPerSecond,
          megabytesPerSecond: (deliveriesPerSecond * params.payloadBytes) / 1e6,
          cpuMicrosPerDelivery,
          p50: latency.p50,
          p99: latency.p99,
        },
        subscribed,
      )
    },
  }
}

/** Fan-out of 4 KiB updates. */
export const fanOut4k = fanOutWith('fan-out-4k', '4 KiB', {
  subscribers: 1000,
  updates: 500,
  warmup: 100,
  connections: 4,
  payloadBytes: 4096,
})

/** Fan-out of 32 KiB updates. */
export const fanOut32k = fanOutWith('fan-out-32k', '32 KiB', {
  subscribers: 1000,
  updates: 100,
  warmup: 20,
  connections: 4,
  payloadBytes: 32_768,
})

if (isMain(import.meta.url)) {
  await runScenarioCli(fanOut4k)
  await runScenarioCli(fanOut32k)
}

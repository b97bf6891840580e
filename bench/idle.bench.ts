// Idle: 10,000 subscribers, each on its own topic, doing nothing.
//
//   node --import tsx bench/idle.bench.ts [--peers …] [--set subscribers=2000]
//
// Measures the connect rate (connections whose response headers arrived per second, 512
// attempts in flight), the server's resident memory per subscriber (RSS from /proc after the
// connections settled, minus RSS before them, over the count; nginx: master + worker) and, for
// Node peers, the JavaScript heap per subscriber (heapUsed, without forcing a GC, so it is
// indicative only), and the server CPU per connection. Kernel socket memory is not in RSS.
// Then one update to each of the first 100 topics checks the subscriptions are live.
// Writes bench/results/idle.{json,svg}.

import { subscribeAll } from './load/measure.ts'
import { readProcs } from './load/proc-stats.ts'
import { isMain, runScenarioCli } from './load/scenario.ts'
import type { Scenario } from './load/scenario-types.ts'

export interface IdleParams {
  subscribers: number
  settleMs: number
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export const idle: Scenario<IdleParams> = {
  id: 'idle',
  title: 'Idle: 10,000 subscribers, one topic each',
  description: '10,000 subscribers on 10,000 topics, connected 512 at a time, then left idle.',
  defaults: { subscribers: 10_000, settleMs: 1500 },
  metrics: [
    { key: 'connectRate', label: 'connects/s', unit: '/s', better: 'higher' },
    { key: 'rssPerSubscriber', label: 'RSS/subscriber', unit: 'KiB', better: 'lower' },
    { key: 'heapPerSubscriber', label: 'heap/subscriber', unit: 'KiB', better: 'lower' },
    { key: 'cpuMicrosPerConnect', label: 'CPU/connect', unit: 'µs', better: 'lower' },
    { key: 'rssMiB', label: 'RSS total', unit: 'MiB', better: 'lower', chart: false },
  ],
  timeoutMs: (p) => 60_000 + p.subscribers * 5,
  async run({ peer, gen, params, log }) {
    await sleep(Math.min(300, params.settleMs))
    const pids = peer.pids()
    const before = readProcs(pids)
    const heapBefore = await peer.heapUsedBytes()
    const paths = Array.from({ length: params.subscribers }, (_, i) => peer.subscribePath(`t${i}`))
    const checked = Math.min(100, params.subscribers)
    const subscribed = await subscribeAll(gen, peer, paths, { seqSpace: checked, label: 'connect' })
    log(
      `${subscribed.connected} connected in ${subscribed.connectMs.toFixed(0)} ms, ${subscribed.failed} failed`,
    )
    await sleep(params.settleMs)
    const after = readProcs(pids)
    const heapAfter = await peer.heapUsedBytes()
    const n = subscribed.connected

    // Liveness: one update to each of the first topics; each must reach its one subscriber.
    const published = await gen.publish(peer, {
      template: peer.publishTemplate(),
      topics: Array.from({ length: checked }, (_, i) => `t${i}`),
      count: checked,
      connections: 4,
      durationMs: 20_000,
    })
    await gen.waitFor((t) => t.unique >= published.acknowledged, {
      timeoutMs: 10_000,
      idleMs: 3000,
    })
    const collected = await gen.collect()
    const notes: string[] = []
    if (subscribed.failed > 0) notes.push(`failures: ${JSON.stringify(subscribed.failures)}`)
    notes.push(
      `RSS ${(before.rssBytes / 2 ** 20).toFixed(1)} → ${(after.rssBytes / 2 ** 20).toFixed(1)} MiB`,
    )
    return {
      metrics: {
        connectRate: subscribed.connectRate,
        rssPerSubscriber: (after.rssBytes - before.rssBytes) / n / 1024,
        heapPerSubscriber:
          heapBefore === null || heapAfter === null
            ? Number.NaN
            : (heapAfter - heapBefore) / n / 1024,
        cpuMicrosPerConnect: ((after.cpuMs - before.cpuMs) * 1000) / n,
        rssMiB: after.rssBytes / 2 ** 20,
      },
      lost: Math.max(0, checked - collected.unique),
      duplicates: collected.duplicates,
      failedConnections: subscribed.failed + collected.dropped,
      latencySamples: collected.samples.length,
      notes,
    }
  },
}

if (isMain(import.meta.url)) await runScenarioCli(idle)

// Many topics: 10,000 subscribers on 10,000 topics (one each) plus 100 subscribers to every
// topic (`*`; Nchan has no wildcard, so its updates also go to an `all` channel those 100
// subscribe to), then 10,000 updates of 100 bytes spread round-robin over the topics, as fast
// as acknowledged on 4 keep-alive connections: each update reaches 1 + 100 subscribers.
//
//   node --import tsx bench/many-topics.bench.ts [--peers …] [--set topics=2000]
//
// Measures the connect rate, deliveries per second, server CPU per delivery and latency; counts
// lost and duplicate deliveries. Writes bench/results/many-topics.{json,svg}.

import { deliveryResult, publishAndCollect, subscribeAll, throughput } from './load/measure.ts'
import { isMain, runScenarioCli } from './load/scenario.ts'
import type { Scenario } from './load/scenario-types.ts'

export interface ManyTopicsParams {
  topics: number
  wildcards: number
  updates: number
  connections: number
}

export const manyTopics: Scenario<ManyTopicsParams> = {
  id: 'many-topics',
  title: 'Many topics: 10,000 topics + 100 `*` subscribers',
  description:
    '10,000 subscribers on 10,000 topics plus 100 subscribers to all topics; 10,000 updates spread round-robin over the topics, as fast as accepted on 4 connections.',
  defaults: { topics: 10_000, wildcards: 100, updates: 10_000, connections: 4 },
  metrics: [
    { key: 'deliveriesPerSecond', label: 'deliveries/s', unit: '/s', better: 'higher' },
    { key: 'cpuMicrosPerDelivery', label: 'CPU/delivery', unit: 'µs', better: 'lower' },
    { key: 'publishesPerSecond', label: 'publishes/s', unit: '/s', better: 'higher', chart: false },
    { key: 'p99', label: 'p99', unit: 'ms', better: 'lower' },
    { key: 'connectRate', label: 'connects/s', unit: '/s', better: 'higher', chart: false },
  ],
  timeoutMs: (p) => 90_000 + (p.topics + p.wildcards) * 5 + p.updates * 10,
  async run({ peer, gen, params, log }) {
    const topics = Array.from({ length: params.topics }, (_, i) => `t${i}`)
    const paths = [
      ...topics.map((topic) => peer.subscribePath(topic)),
      ...Array.from({ length: params.wildcards }, () => peer.wildcardPath()),
    ]
    const subscribed = await subscribeAll(gen, peer, paths, {
      seqSpace: params.updates,
      label: 'connect',
    })
    log(`${subscribed.connected} connected in ${subscribed.connectMs.toFixed(0)} ms`)
    const delivery = await publishAndCollect(gen, peer, {
      topics,
      count: params.updates,
      connections: params.connections,
      wildcard: true,
      // Each update reaches its topic's one subscriber and every wildcard subscriber.
      expected: (acknowledged) =>
        Math.min(acknowledged, subscribed.connected) +
        acknowledged * Math.min(params.wildcards, subscribed.connected),
      timeoutMs: 90_000,
      label: 'publish',
    })
    const { latency } = delivery
    return deliveryResult(
      delivery,
      {
        ...throughput(delivery),
        p99: latency.p99,
        connectRate: subscribed.connectRate,
      },
      subscribed,
    )
  },
}

if (isMain(import.meta.url)) await runScenarioCli(manyTopics)

// Catch-up: 1,000 subscribers reconnect 1,000 updates behind and must receive all of them.
//
//   node --import tsx bench/catch-up.bench.ts [--peers …] [--set behind=500]
//
// One update is published and its id (as the server gave it) noted; 1,000 more follow with
// nobody connected. Then 1,000 subscribers connect with `Last-Event-ID: <that id>` (512 attempts
// in flight). Measures the time from the first connection attempt until every subscriber has
// received every missed update (each exactly once: losses and duplicates are counted), the
// replayed deliveries per second, and the server CPU per delivery. Nchan's buffer and the raw
// peer's ring hold 1,001 updates, enough for the replay. Writes bench/results/catch-up.{json,svg}.

import { subscribeAll } from './load/measure.ts'
import { readProcs } from './load/proc-stats.ts'
import { isMain, runScenarioCli } from './load/scenario.ts'
import type { Scenario } from './load/scenario-types.ts'

export interface CatchUpParams {
  subscribers: number
  behind: number
}

export const catchUp: Scenario<CatchUpParams> = {
  id: 'catch-up',
  title: 'Catch-up: 1,000 subscribers reconnecting 1,000 updates behind',
  description:
    '1,000 subscribers reconnect with the Last-Event-ID of an update 1,000 updates back, on one topic; time until all have every missed update.',
  defaults: { subscribers: 1000, behind: 1000 },
  metrics: [
    { key: 'secondsToCurrent', label: 'time to all current', unit: 's', better: 'lower' },
    { key: 'deliveriesPerSecond', label: 'replayed deliveries/s', unit: '/s', better: 'higher' },
    { key: 'cpuMicrosPerDelivery', label: 'CPU/delivery', unit: 'µs', better: 'lower' },
  ],
  peerOptions: (p) => ({ history: p.behind + 1 }),
  timeoutMs: (p) => 90_000 + p.subscribers * p.behind * 0.02,
  async run({ peer, gen, params, log }) {
    // The marker alone first: with several publishes in flight it might not commit first.
    const marker = await gen.publish(peer, {
      template: peer.publishTemplate(),
      topics: ['t0'],
      count: 1,
      durationMs: 10_000,
      captureSeqs: [0],
    })
    const body = marker.captured['0']
    if (body === undefined)
      throw new Error(`the marker update was not accepted: ${JSON.stringify(marker.failures)}`)
    const id = peer.publishedId(body)
    const missed = await gen.publish(peer, {
      template: peer.publishTemplate(),
      topics: ['t0'],
      count: params.behind,
      firstSeq: 1,
      connections: 4,
      durationMs: 60_000,
    })
    if (missed.acknowledged !== params.behind) {
      throw new Error(`only ${missed.acknowledged} of ${params.behind} updates accepted`)
    }
    log(`published 1 + ${params.behind} updates; resuming after ${id}`)

    const pids = peer.pids()
    const cpuBefore = readProcs(pids).cpuMs
    const paths = Array.from({ length: params.subscribers }, () => peer.subscribePath('t0'))
    const subscribed = await subscribeAll(gen, peer, paths, {
      seqSpace: params.behind + 1,
      headers: peer.resumeHeaders(id),
      label: 'reconnect',
      maxSamples: 1,
    })
    const expected = subscribed.connected * params.behind
    const waited = await gen.waitFor((t) => t.unique >= expected, {
      timeoutMs: 60_000,
      idleMs: 5000,
      label: 'catch-up',
      expected,
    })
    const cpuMs = readProcs(pids).cpuMs - cpuBefore
    const collected = await gen.collect()
    const seconds = (collected.lastReceiveNs - subscribed.startNs) / 1e9
    const notes: string[] = []
    if (subscribed.failed > 0) notes.push(`failures: ${JSON.stringify(subscribed.failures)}`)
    if (waited.why !== 'met') notes.push(`stopped waiting: ${waited.why}`)
    // The marker itself must not be replayed: it is the client's last event.
    if (collected.received > collected.unique + collected.duplicates) {
      notes.push('some events had out-of-range sequence numbers')
    }
    if (collected.foreign > 0)
      notes.push(`${collected.foreign} events that were not bench payloads`)
    notes.push(`connected in ${subscribed.connectMs.toFixed(0)} ms`)
    return {
      metrics: {
        secondsToCurrent: seconds,
        deliveriesPerSecond: collected.unique / seconds,
        cpuMicrosPerDelivery: (cpuMs * 1000) / Math.max(1, collected.unique),
      },
      lost: Math.max(0, expected - collected.unique),
      duplicates: collected.duplicates,
      failedConnections: subscribed.failed + collected.dropped,
      latencySamples: collected.samples.length,
      notes,
    }
  },
}

if (isMain(import.meta.url)) await runScenarioCli(catchUp)

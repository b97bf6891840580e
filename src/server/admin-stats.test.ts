import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ClusterNode, StoredUpdate } from '../hub/index.ts'
import { type AdminSubscriber, createAdminStats } from './admin-stats.ts'

/** An update as the hub reports it: only its topics matter here. */
function update(...topics: string[]): StoredUpdate {
  return { topics } as unknown as StoredUpdate
}

function subscriber(id: string, selectors: string[], queuedBytes = 0): AdminSubscriber {
  return { id, selectors, stream: { queuedBytes } }
}

/** A clock the test moves. */
function fakeClock(start = 1000): { now: () => number; advance(ms: number): void } {
  let at = start
  return { now: () => at, advance: (ms) => (at += ms) }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('createAdminStats', () => {
  it('runs only while watched, and stops with the last watcher', () => {
    const stats = createAdminStats({ intervalMs: 60_000 })
    assert.equal(stats.running, false)
    const stopA = stats.watch(() => {})
    const stopB = stats.watch(() => {})
    assert.equal(stats.running, true)
    assert.equal(stats.watchers, 2)
    stopA()
    stopA()
    assert.equal(stats.running, true, 'one stop per watcher: a second call does nothing')
    stopB()
    assert.equal(stats.running, false)
    assert.equal(stats.watchers, 0)
    stats.close()
  })

  it('counts totals always, but samples latencies and topics only while watched', async () => {
    const clock = fakeClock()
    const stats = createAdminStats({ intervalMs: 60_000, now: clock.now })
    stats.metrics.published?.(update('urn:unwatched'), 0.002)
    stats.metrics.delivered?.(3)
    stats.metrics.disconnected?.('overflow', {} as never)
    await nextTurn()
    const stop = stats.watch(() => {})
    clock.advance(1000)
    const first = await stats.sample()
    assert.equal(first.publishedTotal, 1)
    assert.equal(first.deliveredTotal, 3)
    assert.deepEqual(first.cutsTotal, { overflow: 1 })
    assert.deepEqual(first.cuts, {}, 'the cut came before watching began')
    assert.equal(first.publishesPerSecond, 0, 'the rate counts from the start of watching')
    assert.deepEqual(first.topTopics, [])
    assert.deepEqual(first.commitMs, { p50: null, p99: null, count: 0 })
    assert.deepEqual(first.dispatchMs, { p50: null, p99: null, count: 0 })
    stop()
    stats.close()
  })

  it('measures rates over the interval since the previous snapshot', async () => {
    const clock = fakeClock()
    const stats = createAdminStats({ intervalMs: 60_000, now: clock.now })
    stats.watch(() => {})
    for (let i = 0; i < 30; i++) stats.metrics.published?.(update('urn:a'), 0.001)
    stats.metrics.delivered?.(120)
    stats.metrics.disconnected?.('stalled', {} as never)
    stats.metrics.disconnected?.('stalled', {} as never)
    stats.metrics.disconnected?.('client-closed', {} as never)
    clock.advance(2000)
    const snapshot = await stats.sample()
    assert.equal(snapshot.intervalMs, 2000)
    assert.equal(snapshot.publishesPerSecond, 15)
    assert.equal(snapshot.deliveriesPerSecond, 60)
    assert.deepEqual(snapshot.cuts, { stalled: 2, 'client-closed': 1 })
    assert.deepEqual(snapshot.topTopics, [{ key: 'urn:a', perSecond: 15 }])
    clock.advance(1000)
    const next = await stats.sample()
    assert.equal(next.publishesPerSecond, 0, 'nothing new in the next interval')
    assert.deepEqual(next.cuts, {})
    assert.deepEqual(next.cutsTotal, { stalled: 2, 'client-closed': 1 })
    assert.equal(next.publishedTotal, 30)
    stats.close()
  })

  it('gives commit and dispatch latency percentiles of the interval', async () => {
    const clock = fakeClock(10_000)
    const stats = createAdminStats({ intervalMs: 60_000, now: clock.now })
    stats.watch(() => {})
    // 100 publishes committed in 1…100 ms, all accepted at 10,000 − their commit time.
    for (let ms = 1; ms <= 100; ms++) stats.metrics.published?.(update('urn:a'), ms / 1000)
    // The bytes are written 5 ms later, before the collector's shared setImmediate runs.
    clock.advance(5)
    await nextTurn()
    clock.advance(995)
    const snapshot = await stats.sample()
    assert.deepEqual(snapshot.commitMs, { p50: 50, p99: 99, count: 100 })
    assert.deepEqual(snapshot.dispatchMs, { p50: 55, p99: 104, count: 100 })
    clock.advance(1000)
    const empty = await stats.sample()
    assert.deepEqual(empty.commitMs, { p50: null, p99: null, count: 0 }, 'one interval each')
    stats.close()
  })

  it('bounds the topics it counts under a flood of distinct topics', async () => {
    const clock = fakeClock()
    const stats = createAdminStats({ intervalMs: 60_000, now: clock.now })
    stats.watch(() => {})
    for (let i = 0; i < 50_000; i++) {
      stats.metrics.published?.(update(`urn:flood:${i}`), 0)
      if (i % 5 === 0) stats.metrics.published?.(update('urn:hot', 'urn:hot-alternate'), 0)
    }
    clock.advance(1000)
    const snapshot = await stats.sample()
    assert.equal(snapshot.topTopics.length, 10)
    assert.equal(snapshot.topTopics[0]?.key, 'urn:hot')
    assert.ok((snapshot.topTopics[0]?.perSecond ?? 0) >= 10_000)
    assert.equal(snapshot.commitMs.count, 60_000)
    stats.close()
  })

  it('counts at most 8 topics of one update', async () => {
    const clock = fakeClock()
    const stats = createAdminStats({ intervalMs: 60_000, now: clock.now })
    stats.watch(() => {})
    const topics = Array.from({ length: 20 }, (_, i) => `urn:t:${i}`)
    stats.metrics.published?.(update(...topics), 0)
    clock.advance(1000)
    const snapshot = await stats.sample()
    assert.deepEqual(snapshot.topTopics.map((t) => t.key).sort(), topics.slice(0, 8).sort())
    stats.close()
  })

  it('lists the 5 slowest subscribers and the selectors most subscribed to', async () => {
    const subscribers = [
      ...Array.from({ length: 12 }, (_, i) => subscriber(`urn:uuid:${i}`, ['urn:room:1'], i * 100)),
      subscriber('urn:uuid:x', ['urn:room:2', 'urn:room:1']),
      subscriber('urn:uuid:y', ['urn:room:3']),
    ]
    const stats = createAdminStats({ subscribers: () => subscribers })
    const snapshot = await stats.sample()
    assert.equal(snapshot.subscribers, 14, 'counted from the list when the hub gave no gauge')
    assert.deepEqual(
      snapshot.slowest.map((s) => [s.id, s.queuedBytes]),
      [
        ['urn:uuid:11', 1100],
        ['urn:uuid:10', 1000],
        ['urn:uuid:9', 900],
        ['urn:uuid:8', 800],
        ['urn:uuid:7', 700],
      ],
    )
    assert.deepEqual(snapshot.topSelectors, [
      { key: 'urn:room:1', count: 13 },
      { key: 'urn:room:2', count: 1 },
      { key: 'urn:room:3', count: 1 },
    ])
    stats.close()
  })

  it('counts at most 10,000 distinct selectors, and those seen go on counting', async () => {
    // 'urn:hot' first, then 10,000 distinct selectors fill the cap; 'urn:late' comes past it.
    const subscribers = [
      subscriber('urn:uuid:first', ['urn:hot']),
      ...Array.from({ length: 9_999 }, (_, i) => subscriber(`urn:uuid:${i}`, [`urn:one:${i}`])),
      ...Array.from({ length: 50 }, (_, i) =>
        subscriber(`urn:uuid:l${i}`, ['urn:late', 'urn:hot']),
      ),
    ]
    const stats = createAdminStats({ subscribers: () => subscribers })
    const snapshot = await stats.sample()
    assert.equal(snapshot.subscribers, 10_050)
    assert.equal(snapshot.topSelectors.length, 10)
    assert.deepEqual(snapshot.topSelectors[0], { key: 'urn:hot', count: 51 })
    assert.ok(!snapshot.topSelectors.some((s) => s.key === 'urn:late'), 'past the cap: not counted')
    stats.close()
  })

  it('leaves out subscribers with nothing queued', async () => {
    const stats = createAdminStats({ subscribers: () => [subscriber('urn:uuid:a', ['t'])] })
    assert.deepEqual((await stats.sample()).slowest, [])
  })

  it('reads subscribers and the history size from the gauges /metrics reads', async () => {
    const stats = createAdminStats({
      subscribers: () => [],
      store: () => ({ kind: 'memory', size: async () => 1 }),
    })
    stats.metrics.observe?.({ subscribers: () => 42, historySize: async () => 7 })
    const snapshot = await stats.sample()
    assert.equal(snapshot.subscribers, 42)
    assert.deepEqual(snapshot.store, { kind: 'memory', size: 7 })
    assert.equal(snapshot.nodes, null, 'one node: no cluster rows')
  })

  it('gives one row per node of a cluster, and a null size when the store fails', async () => {
    const rows: ClusterNode[] = [
      { id: 'a', self: true, alive: true, subscribers: 3, lagMs: 0, seenAt: 1 },
      { id: 'b', self: false, alive: false, subscribers: 9, lagMs: null, seenAt: 0 },
    ]
    const stats = createAdminStats({
      store: () => ({
        kind: 'redis',
        size: () => Promise.reject(new Error('down')),
        cluster: { nodeId: 'a', nodes: async () => rows, onNodeLost: () => () => {} },
      }),
    })
    const snapshot = await stats.sample()
    assert.deepEqual(snapshot.store, { kind: 'redis', size: null })
    assert.deepEqual(snapshot.nodes, rows)
  })

  it('shows at most 64 nodes, and none when the view does not answer within the interval', async () => {
    const many: ClusterNode[] = Array.from({ length: 100 }, (_, i) => ({
      id: `n${i}`,
      self: i === 0,
      alive: true,
      subscribers: 0,
      lagMs: 0,
      seenAt: 0,
    }))
    let hang = false
    const stats = createAdminStats({
      intervalMs: 50,
      store: () => ({
        kind: 'redis',
        size: async () => 0,
        cluster: {
          nodeId: 'n0',
          nodes: () => (hang ? new Promise<ClusterNode[]>(() => {}) : Promise.resolve(many)),
          onNodeLost: () => () => {},
        },
      }),
    })
    assert.equal((await stats.sample()).nodes?.length, 64)
    hang = true
    assert.equal((await stats.sample()).nodes, null)
  })

  it('sends a snapshot to every watcher each interval', async () => {
    const stats = createAdminStats({ intervalMs: 20 })
    const seen: number[] = []
    const stop = stats.watch((snapshot) => seen.push(snapshot.at))
    // Bounded: 3 snapshots at 20 ms, or the test fails after 200 tries.
    for (let i = 0; i < 200 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10))
    stop()
    assert.ok(seen.length >= 3, `${seen.length} snapshots`)
    assert.notEqual(stats.latest, undefined)
    assert.equal(stats.latest, null, 'forgotten when the last watcher left')
  })
})

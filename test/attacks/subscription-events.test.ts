import assert from 'node:assert/strict'
import { request } from 'node:http'
import { describe, it } from 'node:test'
import type { SseMessage } from '../../src/core/parse.ts'
import { createMetrics } from '../../src/server/metrics.ts'
import { createMemoryStore } from '../../src/storage/memory.ts'
import { createRedisStore } from '../../src/storage/redis.ts'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'
import { eventually } from '../helpers/raw-sse.ts'
import {
  deleteKeys,
  REDIS_URL,
  redisCommand,
  redisSkipReason,
  uniquePrefix,
} from '../helpers/redis.ts'
import { type SseSubscription, subscribeSse } from '../helpers/sse-events.ts'

// Issue #11, item 1: a subscriber with a token that grants nothing (or none, in development mode)
// filled the 100,000-update history in 3.7 s by reconnecting with 1,000 selectors, because each
// connect and disconnect appended one subscription event per selector to the history real
// updates are resumed from. Subscription events now go live to their watchers only; a connection
// announces at most its first 100 selectors, and a client address a bounded rate of them.

const PATH = '/.well-known/mercure/subscriptions'
const WATCH = `${PATH}{/topic}{/subscriber}`

function query(selectors: readonly string[]): string {
  return selectors.map((s) => `topic=${encodeURIComponent(s)}`).join('&')
}

function topics(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${i}`)
}

/** The subscription documents a watcher received for selectors starting with `prefix`. */
function documents(
  events: readonly SseMessage[],
  prefix: string,
): Array<{ topic: string; active: boolean; subscriber: string }> {
  type Document = { type?: string; topic: string; active: boolean; subscriber: string }
  return events
    .map((e) => (e.data.startsWith('{') ? (JSON.parse(e.data) as Document) : undefined))
    .filter((d): d is Document => d?.type === 'Subscription' && d.topic.startsWith(prefix))
}

async function watch(hub: TestHub): Promise<SseSubscription> {
  const token = await hub.token({ subscribe: [WATCH] })
  const watcher = await subscribeSse(`${hub.hubUrl}?${query([WATCH])}`, {
    authorization: `Bearer ${token}`,
  })
  assert.equal(watcher.status, 200)
  return watcher
}

/** Opens then drops a subscription (bounded: one connection), waiting until the hub released it. */
async function connectOnce(
  hub: TestHub,
  selectors: readonly string[],
  headers: Record<string, string> = {},
): Promise<void> {
  const before = hub.server.mercure?.hub.subscribers.size ?? 0
  const sub = await subscribeSse(`${hub.hubUrl}?${query(selectors)}`, headers)
  assert.equal(sub.status, 200)
  await eventually(() => hub.server.mercure?.hub.subscribers.size === before + 1, 'connected')
  sub.close()
  await eventually(() => hub.server.mercure?.hub.subscribers.size === before, 'released')
}

/** A subscription from another loopback address (each client address has its own budget). */
function subscribeFrom(localAddress: string, url: string): Promise<{ close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request(url, {
      localAddress,
      agent: false,
      headers: { accept: 'text/event-stream' },
    })
    req.on('error', reject)
    req.on('response', (res) => {
      res.on('error', () => {})
      req.off('error', reject)
      req.on('error', () => {})
      assert.equal(res.statusCode, 200)
      resolve({ close: () => req.destroy() })
    })
    req.end()
  })
}

describe('subscription events under attack', () => {
  it('never evict real updates: a token that grants nothing, and no token at all, reconnecting with 200 selectors leave the history resumable', async () => {
    const store = createMemoryStore({ maxUpdates: 1000 })
    const hub = await startTestHub({ subscriptions: true, store })
    try {
      const ids: string[] = []
      for (let i = 0; i < 20; i++) {
        ids.push(await hub.publishOk({ topic: 'urn:real:feed', data: `real ${i}` }))
      }
      const nothing = await hub.token({ subscribe: [] })
      const selectors = topics('urn:attack:', 200)
      // Before the fix: 12 rounds × 2 × 200 = 4,800 events, past the history's 1,000.
      const deadline = Date.now() + 30_000
      for (let round = 0; round < 12 && Date.now() < deadline; round++) {
        const auth: Record<string, string> =
          round % 2 === 0 ? { authorization: `Bearer ${nothing}` } : {}
        await connectOnce(hub, selectors, auth)
      }

      assert.equal(await store.size(), ids.length, 'the history holds the real updates only')
      const resumed = await subscribeSse(`${hub.hubUrl}?topic=urn:real:feed`, {
        'last-event-id': ids[0] as string,
      })
      assert.equal(resumed.headers['last-event-id'], ids[0], 'resumed, not earliest')
      const events = await resumed.waitForEvents(ids.length - 1)
      assert.deepEqual(
        events.map((e) => e.lastEventId),
        ids.slice(1),
      )
      resumed.close()
    } finally {
      await hub.close()
      await store.close()
    }
  })

  it('announces only the first 100 selectors of a connection, and the same 100 when it leaves', async () => {
    const hub = await startTestHub({ subscriptions: true })
    try {
      const watcher = await watch(hub)
      await watcher.waitForEvents(1)
      const selectors = topics('urn:big:', 150)
      const big = await subscribeSse(`${hub.hubUrl}?${query(selectors)}`)
      // Events are dispatched in order: once the marker's is in, every one of big's is.
      const marker = await subscribeSse(`${hub.hubUrl}?topic=urn:marker`)
      await eventually(() => documents(watcher.events, 'urn:marker').length === 1, 'marker in')
      const joined = documents(watcher.events, 'urn:big:')
      assert.deepEqual(
        joined.map((d) => [d.topic, d.active]),
        selectors.slice(0, 100).map((s) => [s, true]),
      )

      // The subscriptions API still lists every selector: it reads the directory, not events.
      const token = await hub.token({ subscribe: [WATCH] })
      const res = await fetch(`${hub.base}${PATH}`, {
        headers: { authorization: `Bearer ${token}` },
      })
      const list = (await res.json()) as { subscriptions: Array<{ topic: string }> }
      assert.equal(list.subscriptions.filter((s) => s.topic.startsWith('urn:big:')).length, 150)

      big.close()
      await eventually(
        () => documents(watcher.events, 'urn:big:').length === 200,
        'big left, announced',
      )
      marker.close()
      await eventually(() => documents(watcher.events, 'urn:marker').length === 2, 'marker out')
      const left = documents(watcher.events, 'urn:big:').slice(100)
      assert.deepEqual(
        left.map((d) => [d.topic, d.active]),
        selectors.slice(0, 100).map((s) => [s, false]),
      )
      watcher.close()
    } finally {
      await hub.close()
    }
  })

  it('drops the subscription events of a client address past its budget, counts them, and keeps other addresses apart', async () => {
    const metrics = createMetrics()
    const hub = await startTestHub(
      {
        subscriptions: true,
        // A budget of 12 events, refilled at 1 a second: the test is over long before that counts.
        subscriptionEventLimits: { perSecond: 1, burst: 12 },
      },
      { metrics },
    )
    try {
      const watcher = await watch(hub) // 1 selector: 2 events reserved (joining and leaving)
      await watcher.waitForEvents(1)
      const a = await subscribeSse(`${hub.hubUrl}?${query(topics('urn:a:', 4))}`) // 8: budget spent
      await eventually(() => documents(watcher.events, 'urn:a:').length === 4, 'a announced')
      await connectOnce(hub, topics('urn:b:', 4)) // over budget: neither joining nor leaving told
      // Another address has a budget of its own.
      const c = await subscribeFrom('127.0.0.2', `${hub.hubUrl}?${query(topics('urn:c:', 4))}`)
      await eventually(() => documents(watcher.events, 'urn:c:').length === 4, 'c announced')
      // A connection announced when it came is announced when it leaves: its budget was reserved.
      a.close()
      await eventually(() => documents(watcher.events, 'urn:a:').length === 8, 'a left')
      c.close()
      await eventually(() => documents(watcher.events, 'urn:c:').length === 8, 'c left')
      assert.deepEqual(documents(watcher.events, 'urn:b:'), [], 'b was never announced')

      const text = await (await fetch(`${hub.base}/metrics`)).text()
      assert.match(text, /ssehub_subscription_events_dropped_total\{reason="rate"\} 8\n/)
      watcher.close()
    } finally {
      await hub.close()
    }
  })

  it('resumes the history exactly from the id of a subscription event', async () => {
    const hub = await startTestHub({ subscriptions: true })
    try {
      const token = await hub.token({ subscribe: [WATCH] })
      const headers = { authorization: `Bearer ${token}` }
      const url = `${hub.hubUrl}?${query(['urn:room', WATCH])}`
      const first = await subscribeSse(url, headers)
      await first.waitForEvents(2) // its own two subscriptions
      const r1 = await hub.publishOk({ topic: 'urn:room', data: 'one' })
      await eventually(() => first.events.some((e) => e.lastEventId === r1), 'r1 live')
      const other = await subscribeSse(`${hub.hubUrl}?topic=urn:other`)
      await eventually(() => documents(first.events, 'urn:other').length === 1, 'other joined')
      const last = first.events.at(-1) as SseMessage
      assert.notEqual(last.lastEventId, r1)
      first.close()
      other.close()
      const r2 = await hub.publishOk({ topic: 'urn:room', data: 'two' })

      const second = await subscribeSse(url, { ...headers, 'last-event-id': last.lastEventId })
      assert.equal(second.headers['last-event-id'], last.lastEventId)
      await eventually(() => second.events.some((e) => e.lastEventId === r2), 'r2 replayed')
      assert.ok(!second.events.some((e) => e.lastEventId === r1), 'r1 not sent twice')
      second.close()
    } finally {
      await hub.close()
    }
  })
})

const skip = (await redisSkipReason()) ?? false

describe('subscription events on several nodes', { skip }, () => {
  it('reach watchers on another node and stay out of the shared history', async () => {
    const prefix = uniquePrefix('sub-events')
    const stores = [
      await createRedisStore({ url: REDIS_URL, keyPrefix: prefix }),
      await createRedisStore({ url: REDIS_URL, keyPrefix: prefix }),
    ]
    const hubs: TestHub[] = []
    try {
      for (const store of stores) hubs.push(await startTestHub({ subscriptions: true, store }))
      const [a, b] = hubs as [TestHub, TestHub]
      const watcher = await watch(b)
      await watcher.waitForEvents(1)
      const r1 = await a.publishOk({ topic: 'urn:real:nodes', data: 'real' })
      for (let round = 0; round < 3; round++) await connectOnce(a, topics('urn:attack:', 20))
      await eventually(
        () => documents(watcher.events, 'urn:attack:').length === 120,
        'every event of node a reached the watcher on node b',
      )
      assert.equal(await redisCommand(['XLEN', `${prefix}updates`]), 1, 'only the real update')
      const resumed = await subscribeSse(`${b.hubUrl}?topic=urn:real:nodes`, {
        'last-event-id': r1,
      })
      assert.equal(resumed.headers['last-event-id'], r1)
      resumed.close()
      watcher.close()
    } finally {
      for (const hub of hubs) await hub.close()
      for (const store of stores) await store.close()
      await deleteKeys(prefix)
    }
  })
})

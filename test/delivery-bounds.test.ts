import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { EventStore } from '../src/hub/event-store.ts'
import type { Hub } from '../src/hub/hub.ts'
import type { StoredUpdate } from '../src/hub/update.ts'
import { createMemoryStore } from '../src/storage/memory.ts'
import { createRedisStore } from '../src/storage/redis.ts'
import { createSqliteStore } from '../src/storage/sqlite.ts'
import { burst, payload } from './helpers/burst.ts'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'
import { eventually, sleep } from './helpers/raw-sse.ts'
import { deleteKeys, REDIS_URL, redisSkipReason, uniquePrefix } from './helpers/redis.ts'
import { subscribeSse } from './helpers/sse-events.ts'

// The delivery guarantees at and beyond their bounds (issue #10): a client that reads is never
// cut, however large a burst or however far behind it resumes; a replay that skips most of the
// history never holds the process; a restarted hub knows its newest id. Sizes are those of real
// API resources (KiB), and every figure is past the 1 MiB stream bound.

const KiB = 1024
const MiB = 1024 * KiB
const dirs: string[] = []
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const redisSkip = (await redisSkipReason()) ?? false
const prefixes: string[] = []
after(async () => {
  for (const prefix of prefixes) await deleteKeys(prefix)
})

type Kind = 'memory' | 'sqlite' | 'redis'

/** A fresh store of `kind`: SQLite in a temporary file, Redis under a prefix of its own. */
async function storeOf(kind: Kind, options: { recentBytes?: number } = {}): Promise<EventStore> {
  if (kind === 'memory') return createMemoryStore()
  if (kind === 'sqlite') return sqliteStore(options)
  const prefix = uniquePrefix('bounds')
  prefixes.push(prefix)
  return createRedisStore({ url: REDIS_URL, keyPrefix: prefix })
}

/** A hub on a store of its own, closed (store too) by the returned `close`. */
async function hubOn(kind: Kind, options: { recentBytes?: number } = {}): Promise<TestHub> {
  const store = await storeOf(kind, options)
  const hub = await startTestHub({ store })
  return {
    ...hub,
    async close() {
      await hub.close()
      await store.close()
    },
  }
}

function sqliteStore(options: { recentBytes?: number } = {}): EventStore {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-bounds-'))
  dirs.push(dir)
  return createSqliteStore({ path: join(dir, 'hub.db'), ...options })
}

function assertWhole(data: readonly string[], count: number, size: number): void {
  assert.equal(data.length, count, `received ${data.length} of ${count} updates`)
  for (const [n, text] of data.entries()) {
    if (text.length !== size || !text.startsWith(`#${n}:`)) {
      assert.fail(
        `update ${n} arrived as ${JSON.stringify(text.slice(0, 12))} (${text.length} bytes)`,
      )
    }
  }
}

for (const kind of ['memory', 'sqlite', 'redis'] as const) {
  // A Redis node's reader delivers what it reads (up to 1,000 entries) in one batch.
  const skip = kind === 'redis' ? redisSkip : false
  describe(`delivery past the stream bound (${kind} store)`, { skip }, () => {
    it('a 16 MiB burst committed in one batch reaches a client that reads, whole and in order', async () => {
      const hub = await hubOn(kind)
      try {
        const sub = await subscribeSse(`${hub.hubUrl}?topic=urn:burst`)
        const count = 512
        const size = 32 * KiB
        await burst(hub.server.mercure?.hub as Hub, 'urn:burst', count, size)
        await sub.waitForEvents(count, 30_000)
        assertWhole(
          sub.events.map((e) => e.data),
          count,
          size,
        )
        assert.equal(sub.events.at(-1)?.lastEventId, `urn:b:urn:burst:${count - 1}`)
        sub.close()
      } finally {
        await hub.close()
      }
    })

    it('updates larger than a hand-off and than half the queue bound arrive whole, live and in a catch-up', async () => {
      // 768 KiB each (the test parser's line limit is 1 MiB): past the 128 KiB hand-off (framed
      // without a copy), past half of the 1 MiB bound (the second one in a turn sends the
      // subscriber to the history), and history pages of one update.
      const hub = await hubOn(kind)
      try {
        const mercure = hub.server.mercure?.hub as Hub
        const sub = await subscribeSse(`${hub.hubUrl}?topic=urn:large`)
        await burst(mercure, 'urn:large', 4, 768 * KiB)
        await sub.waitForEvents(4, 30_000)
        assertWhole(
          sub.events.map((e) => e.data),
          4,
          768 * KiB,
        )
        const late = await subscribeSse(`${hub.hubUrl}?topic=urn:large`, {
          'last-event-id': 'earliest',
        })
        await late.waitForEvents(4, 30_000)
        assert.deepEqual(
          late.events.map((e) => e.lastEventId),
          sub.events.map((e) => e.lastEventId),
        )
        sub.close()
        late.close()
      } finally {
        await hub.close()
      }
    })

    it('a burst from 64 concurrent publishers over HTTP reaches a client that reads', async () => {
      const hub = await hubOn(kind)
      try {
        const sub = await subscribeSse(`${hub.hubUrl}?topic=urn:http-burst`)
        const publishers = 64
        const rounds = 4
        const size = 32 * KiB
        await Promise.all(
          Array.from({ length: publishers }, async (_, p) => {
            for (let r = 0; r < rounds; r++) {
              await hub.publishOk([
                ['topic', 'urn:http-burst'],
                ['id', `urn:h:${p}:${r}`],
                ['data', payload(p * rounds + r, size)],
              ])
            }
          }),
        )
        await sub.waitForEvents(publishers * rounds, 30_000)
        const ids = sub.events.map((e) => e.lastEventId)
        assert.equal(new Set(ids).size, publishers * rounds, 'no update twice')
        for (let p = 0; p < publishers; p++) {
          const mine = ids.filter((id) => id.startsWith(`urn:h:${p}:`))
          assert.deepEqual(
            mine,
            [0, 1, 2, 3].map((r) => `urn:h:${p}:${r}`),
            'each publisher in order',
          )
        }
        sub.close()
      } finally {
        await hub.close()
      }
    })

    it('a 64 MiB catch-up from earliest reaches a client that reads, whole and in order', async () => {
      // SQLite keeps only 4 MiB in memory here: most of the history is read back from the file.
      const hub = await hubOn(kind, { recentBytes: 4 * MiB })
      try {
        const count = 2048
        const size = 32 * KiB
        const mercure = hub.server.mercure?.hub as Hub
        for (let n = 0; n < count; n += 256) await burst(mercure, 'urn:deep', 256, size, n)
        const sub = await subscribeSse(`${hub.hubUrl}?topic=urn:deep`, {
          'last-event-id': 'earliest',
        })
        await sub.waitForEvents(count, 60_000)
        assert.equal(sub.events.length, count)
        assert.deepEqual(
          sub.events.map((e) => e.lastEventId),
          Array.from({ length: count }, (_, i) => `urn:b:urn:deep:${i}`),
        )
        assertWhole(
          sub.events.map((e) => e.data),
          count,
          size,
        )
        sub.close()
      } finally {
        await hub.close()
      }
    })

    it('a client 1,400 updates of 2 KiB behind resumes from its id, and live updates during the catch-up follow it', async () => {
      const hub = await hubOn(kind)
      try {
        const mercure = hub.server.mercure?.hub as Hub
        const first = await burst(mercure, 'urn:behind', 1, 2 * KiB)
        const older = await burst(mercure, 'urn:behind-2', 1400, 2 * KiB)
        const sub = await subscribeSse(`${hub.hubUrl}?topic=urn:behind-2`, {
          'last-event-id': (first[0] as StoredUpdate).id,
        })
        // Published while the history is being sent: they must come after it, once each.
        const during = await Promise.all(
          Array.from({ length: 50 }, (_, n) =>
            mercure.publish({
              id: `urn:live:${n}`,
              topics: ['urn:behind-2'],
              data: payload(n, 2 * KiB),
              private: false,
            }),
          ),
        )
        await sub.waitForEvents(1450, 30_000)
        assert.deepEqual(
          sub.events.map((e) => e.lastEventId),
          [...older.map((u) => u.id), ...during.map((u) => u.id)],
        )
        await sleep(50)
        assert.equal(sub.events.length, 1450, 'nothing twice')
        sub.close()
      } finally {
        await hub.close()
      }
    })

    // 100,000 updates through Redis take a while to publish: the memory and SQLite stores hold it.
    if (kind !== 'redis')
      it('a replay that skips 100,000 updates of other topics never holds the event loop', async () => {
        const hub = await hubOn(kind, { recentBytes: 0 })
        try {
          const mercure = hub.server.mercure?.hub as Hub
          for (let n = 0; n < 100_000; n += 5000) {
            await Promise.all(
              Array.from({ length: 5000 }, (_, i) =>
                mercure.publish({
                  id: `urn:other:${n + i}`,
                  topics: [`urn:other/${(n + i) % 7}`],
                  data: 'x',
                  private: (n + i) % 3 === 0,
                }),
              ),
            )
          }
          await mercure.publish({
            id: 'urn:wanted',
            topics: ['urn:wanted'],
            data: 'at last',
            private: false,
          })
          // The longest the loop went without a turn, while 20 clients replay the whole history.
          let longest = 0
          let last = performance.now()
          let ticking = true
          const tick = (): void => {
            const now = performance.now()
            longest = Math.max(longest, now - last)
            last = now
            if (ticking) setTimeout(tick, 1)
          }
          tick()
          const templates = ['urn:other/{n}/x', 'urn:other/{n}/y', 'urn:o/{n}', 'urn:other{/a,b}/z']
            .map((t) => `topic=${encodeURIComponent(t)}`)
            .join('&')
          const subs = await Promise.all(
            Array.from({ length: 20 }, () =>
              // URI templates beside the exact topic: every skipped update is tested against each.
              subscribeSse(`${hub.hubUrl}?topic=urn:wanted&${templates}`, {
                'last-event-id': 'earliest',
              }),
            ),
          )
          await Promise.all(subs.map((sub) => sub.waitForEvents(1, 60_000)))
          ticking = false
          for (const sub of subs) {
            assert.equal(sub.events[0]?.data, 'at last')
            sub.close()
          }
          // Before, the replays held the process for their whole length, one after another
          // (0.6-1.2 s here): they now share 4 ms of each turn of the event loop. The bound leaves
          // room for GC pauses and a loaded machine (two test files at once on two cores).
          assert.ok(longest < 250, `the event loop was held for ${longest.toFixed(0)} ms at a time`)
        } finally {
          await hub.close()
        }
      })
  })
}

describe('a client that stops reading', () => {
  let hub: TestHub | undefined
  after(() => hub?.close())

  it('is cut after the stall timeout, holding at most half its queue bound meanwhile, while a reading client gets everything', async () => {
    hub = await startTestHub({}, { stallTimeoutMs: 1000, maxQueueBytes: MiB })
    const mercure = hub.server.mercure?.hub as Hub
    // The stalled client: it sends its request and never reads a byte.
    const stalled = request(`${hub.hubUrl}?topic=urn:stall`, { agent: false })
    stalled.on('response', (res) => {
      res.pause()
      res.socket.pause()
    })
    stalled.on('error', () => {})
    stalled.end()
    const reader = await subscribeSse(`${hub.hubUrl}?topic=urn:stall`)
    await eventually(() => mercure.subscribers.size === 2, 'both subscribed')
    const [slow] = [...mercure.subscribers]
    let maxHeld = 0
    const count = 256
    for (let n = 0; n < count; n += 32) {
      await burst(mercure, 'urn:stall', 32, 32 * KiB, n)
      maxHeld = Math.max(maxHeld, slow?.stream.queuedBytes ?? 0)
      await sleep(5)
    }
    await reader.waitForEvents(256, 30_000)
    await eventually(() => slow?.stream.closed === true, 'the stalled client is cut', 10_000)
    assert.equal(slow?.stream.closeReason, 'stalled')
    assert.ok(maxHeld <= MiB / 2 + 64 * KiB, `held ${maxHeld} bytes for the stalled client`)
    assert.equal(reader.events.length, 256)
    assert.equal(reader.events.at(-1)?.lastEventId, 'urn:b:urn:stall:255')
    reader.close()
    stalled.destroy()
  })
})

describe('a restarted hub', () => {
  it('knows its newest id from the store: a subscriber asking for a cursor gets it, not earliest', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-restart-'))
    dirs.push(dir)
    const path = join(dir, 'hub.db')
    const first = await startTestHub({ store: createSqliteStore({ path }) })
    await first.publishOk([
      ['topic', 'urn:restart'],
      ['id', 'urn:r:1'],
    ])
    const newest = await first.publishOk([
      ['topic', 'urn:restart'],
      ['id', 'urn:r:2'],
    ])
    await first.close()
    await first.server.mercure?.store.close()

    const store = createSqliteStore({ path })
    const second = await startTestHub({ store })
    try {
      assert.equal(second.server.mercure?.hub.lastEventId, newest)
      // The id-only block dispatches nothing; the parser tracks it as the last event id.
      const resumed = await new Promise<string>((resolve, reject) => {
        const req = request(
          `${second.hubUrl}?topic=urn:restart&cursor=1`,
          { agent: false },
          (res) => {
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (chunk: string) => {
              text += chunk
              const match = /^id: (.*)$/m.exec(text)
              if (match) {
                resolve(match[1] as string)
                req.destroy()
              }
            })
          },
        )
        req.on('error', reject)
        req.end()
      })
      assert.equal(resumed, newest)
    } finally {
      await second.close()
      await store.close()
    }
  })
})

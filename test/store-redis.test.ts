import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { EventStore } from '../src/hub/event-store.ts'
import { matcherSelector } from '../src/hub/mercure-matcher.ts'
import { isSubscriptionDirectory } from '../src/hub/subscription-directory.ts'
import type { StoredUpdate } from '../src/hub/update.ts'
import { createRedisStore, type RedisStore, type RedisStoreOptions } from '../src/storage/redis.ts'
import { eventually, sleep } from './helpers/raw-sse.ts'
import {
  deleteKeys,
  freePort,
  REDIS_URL,
  redisCommand,
  redisSkipReason,
  startOwnRedis,
  uniquePrefix,
} from './helpers/redis.ts'
import { makeUpdate, registerStoreTests } from './store.contract.ts'

const skip = (await redisSkipReason({ server: true })) ?? false

/** Runs `test` with stores opened on one fresh key prefix (nodes of one hub), then cleans up. */
async function withNodes(
  count: number,
  options: Partial<RedisStoreOptions>,
  test: (stores: RedisStore[], prefix: string) => Promise<void>,
): Promise<void> {
  const prefix = uniquePrefix('store')
  const stores: RedisStore[] = []
  try {
    for (let i = 0; i < count; i++) {
      stores.push(await createRedisStore({ url: REDIS_URL, keyPrefix: prefix, ...options }))
    }
    await test(stores, prefix)
  } finally {
    for (const store of stores) await store.close()
    if (options.url === undefined) await deleteKeys(prefix)
  }
}

describe('redis', { skip }, () => {
  registerStoreTests(
    'redis',
    async (retention) => {
      const prefix = uniquePrefix('contract')
      const stores: EventStore[] = []
      const open = async (): Promise<EventStore> => {
        const store = await createRedisStore({ url: REDIS_URL, keyPrefix: prefix, ...retention })
        stores.push(store)
        return store
      }
      return {
        store: await open(),
        reopen: open,
        cleanup: async () => {
          for (const store of stores) await store.close()
          await deleteKeys(prefix)
        },
      }
    },
    { durable: true },
  )

  describe('RedisStore', () => {
    it('delivers every node’s appends to every node exactly once, in the same order', async () => {
      await withNodes(3, {}, async (nodes) => {
        const seen = nodes.map(() => [] as StoredUpdate[])
        for (const [i, node] of nodes.entries())
          node.onCommit((updates) => seen[i]?.push(...updates))
        const appended = await Promise.all(
          Array.from({ length: 300 }, (_, n) => nodes[n % 3]?.append(makeUpdate(`n${n}`))),
        )
        const last = appended
          .map((u) => u?.cursor ?? '')
          .sort(compare)
          .at(-1)
        await eventually(
          () => nodes.every((node) => node.head() === last),
          'every node delivered the last append',
        )
        const reference = seen[0]?.map((u) => u.cursor)
        assert.equal(reference?.length, 300)
        assert.equal(new Set(reference).size, 300, 'no duplicate')
        for (const other of seen)
          assert.deepEqual(
            other.map((u) => u.cursor),
            reference,
          )
        assert.deepEqual(
          await nodes[2]?.read(null, last ?? '', 1000),
          seen[0],
          'any node reads the same history',
        )
      })
    })

    it('finds an id appended on another node, so Last-Event-ID resumes anywhere', async () => {
      await withNodes(2, {}, async ([a, b]) => {
        const stored = await a?.append(makeUpdate('from-a'))
        assert.equal(await b?.find('from-a'), stored?.cursor)
      })
    })

    it('keeps its id, chain and retry indexes exact and bounded as reused ids are trimmed', async () => {
      await withNodes(2, { maxUpdates: 50 }, async ([a, b], prefix) => {
        if (a === undefined || b === undefined) throw new Error('two nodes')
        // Both nodes append, in bursts (group commits); every third update reuses one of 4 ids.
        for (let at = 0; at < 600; at += 40) {
          await Promise.all(
            Array.from({ length: 40 }, (_, i) => {
              const n = at + i
              const id = n % 3 === 0 ? `hot-${n % 4}` : `u-${n}`
              return (n % 2 === 0 ? a : b).append({ ...makeUpdate(id), data: `${n}` })
            }),
          )
        }
        const entries = (await redisCommand(['XRANGE', `${prefix}updates`, '-', '+'])) as [
          string,
          string[],
        ][]
        const length = (key: string) => redisCommand(['HLEN', `${prefix}${key}`])
        const uids = entries.map(([, fields]) => fields[fields.indexOf('i') + 1] as string)
        const distinct = new Set(uids).size
        assert.equal(entries.length, 50)
        assert.equal(await length('update-ids'), distinct, 'one index entry per retained id')
        assert.equal(await length('update-next'), 50 - distinct, 'one link per later reuse')
        assert.equal(await length('update-digests'), 50, 'one digest per retained entry')
        for (const id of new Set(uids)) {
          const earliest = entries[uids.indexOf(id)]?.[0]
          assert.equal(await b.find(id), earliest, `find(${id}) is the earliest retained`)
        }
      })
    })

    it('finds the next reuse of an id when its earliest entry was deleted by hand', async () => {
      await withNodes(1, {}, async ([store], prefix) => {
        if (store === undefined) throw new Error('one node')
        const first = await store.append({ ...makeUpdate('r'), data: 'first' })
        await store.append(makeUpdate('x'))
        const second = await store.append({ ...makeUpdate('r'), data: 'second' })
        await redisCommand(['XDEL', `${prefix}updates`, first.cursor])
        assert.equal(await store.find('r'), second.cursor)
        await redisCommand(['XDEL', `${prefix}updates`, second.cursor])
        assert.equal(await store.find('r'), null)
      })
    })

    it('never finds a cursor past its own head, so a client resuming on a node that lags gets nothing twice', async () => {
      await withNodes(2, {}, async ([a, b]) => {
        if (a === undefined || b === undefined) throw new Error('two nodes')
        // A burst on a: b's reader takes it in pages, so b lags behind what Redis already has.
        const burst = Promise.all(
          Array.from({ length: 5000 }, (_, i) => a.append(makeUpdate(`burst-${i}`))),
        )
        let found: string | null = null
        for (let tries = 0; found === null && tries < 5000; tries++) {
          found = await b.find('burst-4999')
        }
        assert.notEqual(found, null)
        // The hub registers a subscriber and reads head() right after find: everything up to the
        // found cursor must already be delivered here, or the client would get it live again.
        assert.ok(compare(b.head() ?? '0-0', found as string) >= 0, `b's head covers ${found}`)
        await burst
      })
    })

    it('reads the id at the head of the stream when it opens, so a new node has it before any publish', async () => {
      await withNodes(1, {}, async ([a], prefix) => {
        if (a === undefined) throw new Error('one node')
        await a.append(makeUpdate('one'))
        await a.append(makeUpdate('two'))
        const b = await createRedisStore({ url: REDIS_URL, keyPrefix: prefix })
        try {
          assert.equal(b.headId(), 'two')
          assert.equal(b.head(), a.head())
        } finally {
          await b.close()
        }
      })
    })

    it('rejects an append Redis took but did not answer in time as of unknown outcome, and stores its retry once', async () => {
      // A Redis of this test's own: pausing the shared one would stall every other test.
      const redis = await startOwnRedis()
      try {
        await withNodes(1, { url: redis.url, commandTimeoutMs: 300 }, async ([store]) => {
          if (store === undefined) throw new Error('one node')
          const delivered: string[] = []
          store.onCommit((updates) => delivered.push(...updates.map((u) => u.id)))
          await store.append(makeUpdate('before'))
          // Redis holds write commands (the append script among them) past the timeout, as a
          // hung or overloaded Redis would, then runs them.
          await redisCommand(['CLIENT', 'PAUSE', '1000', 'WRITE'], redis.url)
          await assert.rejects(store.append(makeUpdate('unconfirmed')), {
            code: 'store-unavailable',
            outcome: 'unknown',
            message: /may still store/,
          })
          await eventually(() => delivered.includes('unconfirmed'), 'Redis ran it after all')
          const retried = await store.append(makeUpdate('unconfirmed'))
          assert.equal(retried.cursor, await store.find('unconfirmed'))
          assert.deepEqual(delivered, ['before', 'unconfirmed'], 'delivered once')
          assert.equal(await store.size(), 2)
        })
      } finally {
        await redis.cleanup()
      }
    })

    it('refuses to open, with store-unavailable, when no Redis answers', async () => {
      const port = await freePort()
      await assert.rejects(
        createRedisStore({ url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 300 }),
        { code: 'store-unavailable', message: new RegExp(`127.0.0.1:${port}`) },
      )
    })

    it('never puts the password of the URL in its messages', async () => {
      const port = await freePort()
      await assert.rejects(
        createRedisStore({ url: `redis://user:s3cret@127.0.0.1:${port}`, connectTimeoutMs: 300 }),
        (error: Error) => !error.message.includes('s3cret'),
      )
    })

    it('rejects appends while Redis is down, then resumes delivery after it restarts with nothing skipped', async () => {
      const redis = await startOwnRedis()
      const errors: Error[] = []
      const reconnects: string[] = []
      try {
        await withNodes(
          2,
          {
            url: redis.url,
            commandTimeoutMs: 1000,
            maxReconnectDelayMs: 200,
            onError: (error) => errors.push(error),
            onReconnect: (connection) => reconnects.push(connection),
          },
          async ([a, b]) => {
            if (a === undefined || b === undefined) throw new Error('two nodes')
            const seen: string[] = []
            a.onCommit((updates) => seen.push(...updates.map((u) => u.id)))
            await a.append(makeUpdate('before'))
            await redis.stop()
            const started = Date.now()
            await assert.rejects(a.append(makeUpdate('while-down')), { code: 'store-unavailable' })
            assert.ok(Date.now() - started < 1500, 'fails fast, not after a long wait')
            await eventually(() => errors.length > 0, 'the lost connection was noticed')
            // Refused before it reached Redis: certainly not stored.
            await assert.rejects(a.append(makeUpdate('known-down')), {
              code: 'store-unavailable',
              outcome: 'not-stored',
            })
            assert.equal(await a.ready(), false)
            await redis.start()
            await eventually(() => reconnects.includes('commands'), 'reconnected', 10_000)
            // Appended by the other node: a's reader must still deliver it, after "before".
            await eventually(
              () => reconnects.filter((c) => c === 'commands').length >= 2,
              'b too',
              10_000,
            )
            const after = await b.append(makeUpdate('after'))
            await eventually(() => a.head() === after.cursor, 'a delivered "after"', 10_000)
            assert.deepEqual(seen, ['before', 'after'])
            assert.equal(await a.ready(), true)
            assert.equal(await a.find('before'), (await a.read(null, after.cursor, 10))[0]?.cursor)
            assert.ok(
              errors.some((e) => /lost the/.test(e.message)),
              'the outage was reported',
            )
          },
        )
      } finally {
        await redis.cleanup()
      }
    })

    it('lists the subscriptions of every node, and a node’s go when it closes', async () => {
      await withNodes(2, {}, async ([a, b]) => {
        if (a === undefined || b === undefined) throw new Error('two nodes')
        assert.ok(isSubscriptionDirectory(a))
        a.addSubscriber({ id: 'urn:a', selectors: ['x', 'y'], claims: { payload: { n: 1 } } })
        b.addSubscriber({ id: 'urn:b', selectors: ['z'], claims: null })
        // Each node writes on its own connection: b's write may still be on its way.
        await eventuallyAsync(async () => (await a.listSubscriptions()).length === 3)
        assert.deepEqual(sortById(await a.listSubscriptions()), [
          { subscriber: 'urn:a', topic: 'x', payload: { n: 1 } },
          { subscriber: 'urn:a', topic: 'y', payload: { n: 1 } },
          { subscriber: 'urn:b', topic: 'z' },
        ])
        b.deleteSubscriber({ id: 'urn:b', selectors: ['z'], claims: null })
        await eventuallyAsync(async () => (await a.listSubscriptions()).length === 2)
        b.addSubscriber({ id: 'urn:b2', selectors: ['z'], claims: null })
        await b.close()
        assert.deepEqual(
          (await a.listSubscriptions()).map((s) => s.subscriber),
          ['urn:a', 'urn:a'],
        )
      })
    })

    it('lists a 1.0 subscriber with the payload its own node picks, from any node', async () => {
      await withNodes(2, {}, async ([a, b]) => {
        if (a === undefined || b === undefined) throw new Error('two nodes')
        assert.ok(isSubscriptionDirectory(a) && isSubscriptionDirectory(b))
        const hub = 'https://hub.example/.well-known/mercure'
        const books = matcherSelector({ type: 'urlpattern', match: '/books/:id' }, hub)
        b.addSubscriber({
          id: 'urn:v1',
          selectors: ['/books/1', books, 'urn:other'],
          claims: {
            subscribePayloads: [
              { selectors: ['urn:other'], payload: { first: 'other' } },
              { selectors: [books], payload: { books: true } },
              { selectors: ['*'], payload: undefined },
            ],
          },
        })
        await eventuallyAsync(async () => (await a.listSubscriptions()).length === 3)
        assert.deepEqual(await a.listSubscriptions(), [
          { subscriber: 'urn:v1', topic: '/books/1', payload: { books: true } },
          { subscriber: 'urn:v1', topic: books, payload: { books: true } },
          { subscriber: 'urn:v1', topic: 'urn:other', payload: { first: 'other' } },
        ])
      })
    })

    it('writes its subscribers back when Redis lost them, as after a restart', async () => {
      await withNodes(2, { subscriptionTtlMs: 300 }, async ([a, b], prefix) => {
        if (a === undefined || b === undefined) throw new Error('two nodes')
        a.addSubscriber({ id: 'urn:a', selectors: ['x'], claims: null })
        b.addSubscriber({ id: 'urn:b', selectors: ['x'], claims: null })
        await sleep(50)
        // As after a Redis restart without persistence: every node's hash is gone.
        const keys = (await redisCommand(['KEYS', `${prefix}subscriptions:*`])) as string[]
        assert.equal(keys.length, 2)
        for (const key of keys) await redisCommand(['DEL', key])
        await sleep(250)
        assert.deepEqual((await b.listSubscriptions()).map((s) => s.subscriber).sort(), [
          'urn:a',
          'urn:b',
        ])
      })
    })
  })
})

/** Polls an async condition every 10 ms, for at most 5 s. */
async function eventuallyAsync(condition: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 5000
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('timed out waiting for a condition')
    await sleep(10)
  }
}

function compare(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt) as [bigint, bigint]
  const [bm, bs] = b.split('-').map(BigInt) as [bigint, bigint]
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1
}

function sortById<T extends { subscriber: string; topic: string }>(list: T[]): T[] {
  return [...list].sort((x, y) =>
    `${x.subscriber} ${x.topic}`.localeCompare(`${y.subscriber} ${y.topic}`),
  )
}

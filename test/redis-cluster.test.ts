import assert from 'node:assert/strict'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ClusterNode, LostNode } from '../src/hub/cluster-view.ts'
import { createRedisStore, type RedisStore, type RedisStoreOptions } from '../src/storage/redis.ts'
import type { RedisCommands } from '../src/storage/redis-commands.ts'
import { RedisSubscriptionDirectory } from '../src/storage/redis-directory.ts'
import { spawnCollecting, stopChild, waitForOutput } from './helpers/child-process.ts'
import { sleep } from './helpers/raw-sse.ts'
import {
  deleteKeys,
  REDIS_URL,
  redisCommand,
  redisSkipReason,
  startOwnRedis,
  uniquePrefix,
} from './helpers/redis.ts'
import { makeUpdate } from './store.contract.ts'

const skip = (await redisSkipReason({ server: true })) ?? false

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const NODE = join(ROOT, 'test', 'fixtures', 'redis-node.ts')

/** Short, so that a lost node is noticed within a second; heartbeats every TTL / 3. */
const TTL_MS = 600

/** A store with what its cluster view told its listener. */
interface Node {
  readonly store: RedisStore
  readonly lost: LostNode[]
  listen(): void
}

/** Runs `test` with `count` stores (nodes) on one fresh prefix; closes them and cleans up. */
async function withNodes(
  count: number,
  test: (nodes: Node[], prefix: string) => Promise<void>,
  ttlMs = TTL_MS,
  options: Partial<RedisStoreOptions> = {},
): Promise<void> {
  const prefix = uniquePrefix('cluster')
  const url = options.url ?? REDIS_URL
  const nodes: Node[] = []
  try {
    for (let i = 0; i < count; i++) {
      const store = await createRedisStore({
        url,
        keyPrefix: prefix,
        subscriptionTtlMs: ttlMs,
        ...options,
      })
      const lost: LostNode[] = []
      nodes.push({ store, lost, listen: () => void store.cluster.onNodeLost((n) => lost.push(n)) })
    }
    await test(nodes, prefix)
  } finally {
    for (const { store } of nodes) await store.close()
    await deleteKeys(prefix, url)
  }
}

/** Polls an async condition every 10 ms, for at most 10 s. */
async function until(condition: () => Promise<boolean>, what: string): Promise<void> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    if (await condition()) return
    await sleep(10)
  }
  throw new Error(`timed out waiting until ${what}`)
}

async function self(store: RedisStore): Promise<ClusterNode> {
  const node = (await store.cluster.nodes()).find((n) => n.self)
  if (node === undefined) throw new Error('a store lists itself')
  return node
}

/** When `store` last reported, or -1 while Redis has no status of it (keys lost, or no answer). */
async function seenAt(store: RedisStore): Promise<number> {
  // While the store reconnects, it cannot answer: not yet.
  const nodes = await store.cluster.nodes().catch(() => [])
  return nodes.find((n) => n.self)?.seenAt ?? -1
}

/**
 * Resolves once `store` has run `count` more heartbeats, each with its scan: a heartbeat starts
 * only once the previous one and its scan ended, so the scan of every heartbeat but the last
 * counted is done.
 */
async function heartbeats(store: RedisStore, count: number): Promise<void> {
  let seen = await seenAt(store)
  for (let beat = 0; beat < count; beat++) {
    const from = seen
    await until(async () => {
      seen = await seenAt(store)
      return seen > from
    }, 'a heartbeat')
  }
}

/** Redis's clock, in milliseconds: the one `seenAt` is in. */
async function redisNow(url = REDIS_URL): Promise<number> {
  const [seconds, micros] = (await redisCommand(['TIME'], url)) as [string, string]
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}

/** Resolves once every store ran heartbeats past `ms` (Redis's clock), then two more. */
async function scansAfter(nodes: readonly Node[], ms: number): Promise<void> {
  for (const { store } of nodes) {
    await until(async () => (await seenAt(store)) > ms, 'a heartbeat past the deadline')
    await heartbeats(store, 2)
  }
}

/** A node killed with SIGKILL: a child process with its own store and subscribers. */
async function startChildNode(
  prefix: string,
  subscribers: number,
  ttlMs = TTL_MS,
): Promise<{ id: string; kill: () => Promise<void> }> {
  const started = spawnCollecting(
    process.execPath,
    ['--import', 'tsx', NODE, REDIS_URL, prefix, String(ttlMs), String(subscribers)],
    { cwd: ROOT },
  )
  try {
    const [, id] = (await waitForOutput(
      started,
      /ready (\S+)\n/,
      'the node',
      20_000,
    )) as unknown as [string, string]
    return {
      id,
      kill: async () => {
        assert.equal(await stopChild(started.child, 'SIGKILL'), null, 'killed, not exited')
      },
    }
  } catch (error) {
    await stopChild(started.child, 'SIGKILL')
    throw error
  }
}

/** The subscribers the child node registers (see `test/fixtures/redis-node.ts`). */
function childSubscribers(count: number) {
  return Array.from({ length: count }, (_, i) => ({
    id: `urn:lost:${i}`,
    selectors: [`/lost/${i}`, 'urn:lost:all'],
    ...(i % 2 === 0 ? { payload: { i } } : {}),
    ...(i % 4 === 1
      ? { subscribePayloads: [{ selectors: ['urn:lost:all'], payload: { v1: i } }] }
      : {}),
  }))
}

/** Commands on fresh connections, for a directory the test drives by hand (no timer). */
const rawCommands: RedisCommands = {
  async send(args) {
    const reply = await redisCommand(args)
    if (reply instanceof Error) throw reply
    return reply
  },
  async run(script, keys, args) {
    const reply = await redisCommand(['EVAL', script.source, String(keys.length), ...keys, ...args])
    if (reply instanceof Error) throw reply
    return reply
  },
}

/** A node whose heartbeats the test runs itself: it is "late" exactly when the test says so. */
function manualNode(prefix: string, nodeId: string, head: () => string | null) {
  return new RedisSubscriptionDirectory({
    commands: rawCommands,
    prefix,
    nodeId,
    ttlMs: TTL_MS,
    stream: `${prefix}updates`,
    head,
    pubsub: () => {
      throw new Error('not started')
    },
    database: '0',
    onError: (error) => {
      throw error
    },
  })
}

describe('the Redis store’s cluster view', { skip }, () => {
  it('lists every node, itself included, alive, with its subscribers and a lag of 0 when idle', async () => {
    await withNodes(3, async (nodes) => {
      const [a, b] = nodes as [Node, Node, Node]
      for (let i = 0; i < 3; i++)
        a.store.addSubscriber({ id: `urn:a:${i}`, selectors: ['x'], claims: null })
      b.store.addSubscriber({ id: 'urn:b', selectors: ['y'], claims: null })
      const appended = await a.store.append(makeUpdate('idle'))
      for (const { store } of nodes) {
        await until(async () => store.head() === appended.cursor, 'every node delivered it')
      }
      // The counts and lags are those of each node's heartbeat after the subscribers and the update.
      for (const { store } of nodes) await heartbeats(store, 1)
      const ids = await Promise.all(nodes.map(async ({ store }) => (await self(store)).id))
      for (const [k, { store }] of nodes.entries()) {
        const listed = await store.cluster.nodes()
        assert.deepEqual(
          listed.map((n) => n.id),
          [...ids].sort(),
          'every node, sorted by id',
        )
        for (const node of listed) {
          const i = ids.indexOf(node.id)
          assert.equal(node.self, i === k)
          assert.equal(node.alive, true)
          assert.equal(node.subscribers, [3, 1, 0][i])
          assert.equal(node.lagMs, 0, 'idle: caught up, however long ago the last update was')
          assert.ok(node.seenAt >= Number(appended.cursor.split('-')[0]))
        }
      }
    })
  })

  it('reports how long the oldest entry a node has yet to deliver has waited', async () => {
    await withNodes(1, async ([a], prefix) => {
      if (a === undefined) throw new Error('one node')
      const first = await a.store.append(makeUpdate('first'))
      await sleep(50)
      const second = await a.store.append(makeUpdate('second'))
      await sleep(50)
      // A reader stuck at `head`: the test moves it, as the store's reader would.
      let head: string | null = null
      const lagging = manualNode(prefix, 'lagging', () => head)
      try {
        const lagOf = async (): Promise<number | null> => {
          await lagging.heartbeat()
          return (await a.store.cluster.nodes()).find((n) => n.id === 'lagging')?.lagMs ?? null
        }
        const behindBoth = await lagOf()
        head = first.cursor
        const behindSecond = await lagOf()
        head = second.cursor
        const caughtUp = await lagOf()
        // Lower bounds only: both clocks are Redis's, and the sleeps passed on it too.
        assert.ok(behindBoth !== null && behindBoth >= 100, `behind both: ${behindBoth}`)
        assert.ok(behindSecond !== null && behindSecond >= 50, `behind one: ${behindSecond}`)
        assert.ok(behindBoth > behindSecond, 'the oldest undelivered entry counts')
        assert.equal(caughtUp, 0)
      } finally {
        await lagging.close()
      }
    })
  })

  it('tells exactly one surviving node of a killed node, with all its 1,000 subscribers', async () => {
    await withNodes(2, async (nodes, prefix) => {
      for (const node of nodes) node.listen()
      const [a, b] = nodes as [Node, Node]
      const child = await startChildNode(prefix, 1000)
      assert.equal((await a.store.listSubscriptions()).length, 2000, 'listed while alive')
      assert.equal(
        (await a.store.cluster.nodes()).find((n) => n.id === child.id)?.subscribers,
        1000,
      )
      await child.kill()
      const killedAt = await redisNow()
      await until(async () => a.lost.length + b.lost.length > 0, 'a survivor claimed it')
      // Every survivor scanned twice more after the child's heartbeat could have been current.
      await scansAfter(nodes, killedAt + TTL_MS)
      assert.equal(a.lost.length + b.lost.length, 1, 'one event, on one node')
      const lost = [...a.lost, ...b.lost][0] as LostNode
      assert.equal(lost.id, child.id)
      const byId = (x: { id: string }, y: { id: string }): number => (x.id < y.id ? -1 : 1)
      assert.deepEqual([...lost.subscribers].sort(byId), childSubscribers(1000).sort(byId))
      for (const { store } of nodes) {
        assert.deepEqual(
          (await store.cluster.nodes()).map((n) => n.alive),
          [true, true],
          'the survivors only',
        )
        assert.equal((await store.listSubscriptions()).length, 0)
      }
      const left = (await redisCommand(['KEYS', `${prefix}*${child.id}*`])) as string[]
      assert.deepEqual(left, [], 'no key of the lost node is left')
    })
  })

  it('stops listing a killed node’s subscribers once it is late, and keeps them for a node that listens later', async () => {
    await withNodes(
      2,
      async (nodes, prefix) => {
        const [a, b] = nodes as [Node, Node]
        const child = await startChildNode(prefix, 3, 1500)
        await child.kill()
        // Nobody listens: nobody claims, and the node shows as lost.
        await until(
          async () => (await a.store.cluster.nodes()).some((n) => n.id === child.id && !n.alive),
          'the killed node is late',
        )
        assert.deepEqual(await a.store.listSubscriptions(), [])
        assert.deepEqual(await b.store.listSubscriptions(), [])
        // Kept 2 TTLs after its last heartbeat: well beyond the next scan of a node that listens.
        b.listen()
        await until(async () => b.lost.length > 0, 'b claimed it')
        assert.equal(b.lost[0]?.id, child.id)
        assert.equal(b.lost[0]?.subscribers.length, 3)
        assert.equal(a.lost.length, 0)
        assert.deepEqual(
          (await a.store.cluster.nodes()).map((n) => n.id === child.id),
          [false, false],
        )
      },
      1500,
    )
  })

  it('tells nobody when a node closes', async () => {
    await withNodes(3, async (nodes) => {
      for (const node of nodes) node.listen()
      const [a, b, c] = nodes as [Node, Node, Node]
      c.store.addSubscriber({ id: 'urn:c', selectors: ['z'], claims: null })
      await heartbeats(c.store, 1)
      const id = (await self(c.store)).id
      await c.store.close()
      const closedAt = await redisNow()
      await scansAfter([a, b], closedAt + TTL_MS)
      assert.equal(a.lost.length + b.lost.length, 0)
      assert.equal((await a.store.cluster.nodes()).length, 2)
      assert.ok(!(await a.store.cluster.nodes()).some((n) => n.id === id))
    })
  })

  it('tells nobody when Redis loses every key, and lists every node again', async () => {
    await withNodes(3, async (nodes, prefix) => {
      for (const node of nodes) node.listen()
      for (const [i, { store }] of nodes.entries()) {
        store.addSubscriber({ id: `urn:${i}`, selectors: ['t'], claims: null })
      }
      for (const { store } of nodes) await heartbeats(store, 1)
      // As after a Redis restart without persistence.
      await deleteKeys(prefix)
      const lostAt = await redisNow()
      await scansAfter(nodes, lostAt + TTL_MS)
      assert.equal(
        nodes.reduce((sum, node) => sum + node.lost.length, 0),
        0,
      )
      const listed = await (nodes[0] as Node).store.cluster.nodes()
      assert.deepEqual(
        listed.map((n) => [n.alive, n.subscribers]),
        [
          [true, 1],
          [true, 1],
          [true, 1],
        ],
      )
      assert.equal((await (nodes[1] as Node).store.listSubscriptions()).length, 3)
    })
  })

  it('writes back the subscribers of a live node that was claimed by mistake', async () => {
    await withNodes(1, async ([a], prefix) => {
      if (a === undefined) throw new Error('one node')
      a.listen()
      // A claims only after a TTL of its own heartbeats.
      await heartbeats(a.store, 4)
      const slow = manualNode(prefix, 'slow', () => null)
      try {
        slow.addSubscriber({ id: 'urn:slow', selectors: ['s'], claims: { payload: 'p' } })
        await slow.heartbeat()
        await slow.heartbeat()
        // Its heartbeat as if a whole TTL late (an event loop blocked that long).
        await redisCommand(['HSET', `${prefix}node:slow`, 'seenAt', '0'])
        await until(async () => a.lost.length > 0, 'a claimed it')
        assert.deepEqual(a.lost, [
          { id: 'slow', subscribers: [{ id: 'urn:slow', selectors: ['s'], payload: 'p' }] },
        ])
        assert.deepEqual(await a.store.listSubscriptions(), [])
        await slow.heartbeat()
        assert.deepEqual(await a.store.listSubscriptions(), [
          { subscriber: 'urn:slow', topic: 's', payload: 'p' },
        ])
        const listed = (await a.store.cluster.nodes()).find((n) => n.id === 'slow')
        assert.equal(listed?.alive, true)
        assert.equal(listed?.subscribers, 1)
      } finally {
        await slow.close()
      }
    })
  })

  it('tells nobody after Redis was down longer than the TTL, though every heartbeat is then late', async () => {
    const redis = await startOwnRedis()
    const ttlMs = 1500
    try {
      await withNodes(
        2,
        async (nodes) => {
          for (const node of nodes) node.listen()
          for (const [i, { store }] of nodes.entries()) {
            store.addSubscriber({ id: `urn:${i}`, selectors: ['t'], claims: null })
          }
          // Both steady (a TTL of heartbeats), and their subscribers written.
          for (const { store } of nodes) await heartbeats(store, 4)
          await redis.stop()
          // Down longer than the TTL, shorter than the keys' retention (2 TTLs after the last
          // heartbeat, at most a third of a TTL before the stop): back with every status late.
          await sleep(1.3 * ttlMs)
          await redis.start()
          const backAt = await redisNow(redis.url)
          await scansAfter(nodes, backAt + ttlMs)
          assert.equal(
            nodes.reduce((sum, node) => sum + node.lost.length, 0),
            0,
          )
          const listed = await (nodes[0] as Node).store.cluster.nodes()
          assert.deepEqual(
            listed.map((n) => [n.alive, n.subscribers]),
            [
              [true, 1],
              [true, 1],
            ],
          )
          assert.equal((await (nodes[1] as Node).store.listSubscriptions()).length, 2)
        },
        ttlMs,
        { url: redis.url, maxReconnectDelayMs: 100, commandTimeoutMs: 1000 },
      )
    } finally {
      await redis.cleanup()
    }
  })
})

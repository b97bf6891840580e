import assert from 'node:assert/strict'
import { createServer, get, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { mintToken } from '../src/hub/mint-token.ts'
import { WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER } from '../src/server/webhook-signature.ts'
import { createRedisStore, type RedisStore } from '../src/storage/redis.ts'
import { accessToken, grant } from './helpers/access-token.ts'
import {
  type CollectedChild,
  spawnCollecting,
  stopChild,
  waitForOutput,
} from './helpers/child-process.ts'
import { startTestHub, TEST_SECRET, type TestHub } from './helpers/hub-server.ts'
import {
  deleteKeys,
  REDIS_URL,
  redisCommand,
  redisSkipReason,
  uniquePrefix,
} from './helpers/redis.ts'
import { type DistinctEvent, distinctEvents } from './helpers/webhook-arrivals.ts'

// Presence webhooks in a Redis cluster (issue #14, item 2: "and on a node's loss in a cluster,
// for its subscribers"): real ssehub nodes sharing one Redis, a real receiver verifying every
// signature, and a node that dies.
//
// The node that dies is a child process (test/fixtures/ssehub-redis-node.ts), a whole ssehub node
// with webhooks of its own: its subscribers are real SSE connections, so the receiver first hears
// their `subscribe` from it, with its node id, then their `node-lost` unsubscribe from the one
// survivor that claimed it. SIGKILL is the crash (nothing cleaned up in Redis); SIGTERM is the
// clean shutdown, which must give `server-closed` unsubscribes and no `node-lost` at all. The
// two survivors run in this process; each node posts to a path of its own, so the receiver knows
// who sent what.

const skip = (await redisSkipReason()) ?? false

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const NODE = join(ROOT, 'test', 'fixtures', 'ssehub-redis-node.ts')
const SECRET = 'webhook-redis-test-secret-0123456789-abcdefghij'

/**
 * Short, so that a killed node is claimed within about 2 s; long enough that a node busy
 * accepting 200 connections never misses a whole TTL of heartbeats (every TTL / 3).
 */
const TTL_MS = 1500
/**
 * Of every 4 subscribers, the first has a 0.x token with a payload, the third subscribes with
 * Mercure 1.0 and a token whose `subscribe` details give its topic a payload: every event about
 * either must carry it, `node-lost` ones included.
 */
const WITH_PAYLOAD = 4
/** The remainder (modulo {@link WITH_PAYLOAD}) of the 1.0 subscribers. */
const V1 = 2

/** One request the receiver got. */
interface Arrival {
  readonly index: number
  /** Which node sent it: the last segment of the URL path. */
  readonly from: string
  readonly id: string | undefined
  readonly signature: string | undefined
  readonly body: string
}

/** A receiver that records every request and answers 200. */
async function startReceiver(): Promise<{
  readonly url: string
  readonly arrivals: Arrival[]
  close(): Promise<void>
}> {
  const arrivals: Arrival[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      arrivals.push({
        index: arrivals.length,
        from: (req.url ?? '').split('/').at(-1) ?? '',
        id: req.headers[WEBHOOK_ID_HEADER] as string | undefined,
        signature: req.headers[WEBHOOK_SIGNATURE_HEADER] as string | undefined,
        body: Buffer.concat(chunks).toString('utf8'),
      })
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    arrivals,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** An event as the receiver got it: the first and last request that carried it. */
type Received = DistinctEvent<Arrival>

/** Every distinct event, after checking each request (see {@link distinctEvents}). */
function received(arrivals: readonly Arrival[]): Map<string, Received> {
  return distinctEvents(SECRET, arrivals)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `done` every 20 ms, for at most 30 s; then fails saying what it waited for. */
async function until(done: () => boolean | Promise<boolean>, what: () => string): Promise<void> {
  for (let attempt = 0; attempt < 1500; attempt++) {
    if (await done()) return
    await sleep(20)
  }
  throw new Error(`timed out waiting: ${what()}`)
}

/** A surviving node: a hub in this process on its own Redis store, posting to `<receiver>/<name>`. */
interface Survivor {
  readonly name: string
  readonly id: string
  readonly store: RedisStore
  readonly hub: TestHub
}

async function startSurvivor(prefix: string, receiverUrl: string, name: string): Promise<Survivor> {
  const store = await createRedisStore({
    url: REDIS_URL,
    keyPrefix: prefix,
    subscriptionTtlMs: TTL_MS,
  })
  try {
    const hub = await startTestHub(
      { store },
      { webhooks: { urls: [`${receiverUrl}/${name}`], secret: SECRET } },
    )
    const id = store.cluster.nodeId
    assert.ok(id !== null, 'a Redis store knows its node id from the start')
    const self = (await store.cluster.nodes()).find((node) => node.self)
    assert.equal(self?.id, id, 'the id of the node listed as self')
    return { name, id, store, hub }
  } catch (error) {
    await store.close()
    throw error
  }
}

/** Closes a survivor: its hub (which delivers what its webhooks queued), then its store. */
async function closeSurvivor(survivor: Survivor): Promise<void> {
  await survivor.hub.close()
  await survivor.store.close()
}

/** The node that dies, in a child process of its own. */
interface ChildNode {
  readonly id: string
  readonly hubUrl: string
  readonly started: CollectedChild
}

async function startChildNode(prefix: string, webhookUrl: string): Promise<ChildNode> {
  // `SSEHUB_STORE`, as the fixture reads it.
  const storeUrl = `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`
  const started = spawnCollecting(
    process.execPath,
    ['--import', 'tsx', NODE, storeUrl, String(TTL_MS), webhookUrl],
    { cwd: ROOT, env: { ...process.env, WEBHOOK_SECRET: SECRET } },
  )
  try {
    const [, id, base] = (await waitForOutput(
      started,
      /ready (\S+) (\S+)\n/,
      'the child node',
      60_000,
    )) as unknown as [string, string, string]
    return { id, hubUrl: `${base}/.well-known/mercure`, started }
  } catch (error) {
    await stopChild(started.child, 'SIGKILL')
    throw error
  }
}

/** The topic of subscriber `i`. */
const topicOf = (i: number): string => `https://example.com/users/${i}`

/** The payload every event about subscriber `i` carries, if any (see {@link WITH_PAYLOAD}). */
function payloadOf(i: number): unknown {
  if (i % WITH_PAYLOAD === 0) return { user: `user-${i}` }
  if (i % WITH_PAYLOAD === V1) return { user: `user-${i}`, protocol: '1.0' }
  return undefined
}

/**
 * A 1.0 access token for subscriber `i`: a first `subscribe` detail that does not match its topic
 * (its payload must not be picked), then one for its topic with {@link payloadOf}.
 */
function v1Token(i: number): Promise<string> {
  return accessToken([
    { ...grant(['subscribe'], { match: topicOf(i + 1) }), payload: { user: 'someone else' } },
    { ...grant(['subscribe'], { match: topicOf(i) }), payload: payloadOf(i) },
  ])
}

/**
 * Opens `count` SSE subscriptions to `hubUrl` (with tokens and protocols as {@link WITH_PAYLOAD}
 * says), 50 at a time; resolves once each was answered 200.
 */
async function subscribeMany(hubUrl: string, count: number): Promise<IncomingMessage[]> {
  const open = async (i: number): Promise<IncomingMessage> => {
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    let query = `topic=${encodeURIComponent(topicOf(i))}`
    if (i % WITH_PAYLOAD === 0) {
      const token = await mintToken({ key: TEST_SECRET, payload: { user: `user-${i}` } })
      headers['authorization'] = `Bearer ${token}`
    } else if (i % WITH_PAYLOAD === V1) {
      headers['authorization'] = `Bearer ${await v1Token(i)}`
      query = `match=${encodeURIComponent(topicOf(i))}`
    }
    return new Promise((resolve, reject) => {
      const url = `${hubUrl}?${query}`
      const req = get(url, { agent: false, headers }, (res) => {
        // The node goes away under these streams: their ends and resets are expected.
        res.on('error', () => {})
        req.on('error', () => {})
        res.resume()
        if (res.statusCode === 200) resolve(res)
        else reject(new Error(`subscription ${i} answered ${res.statusCode}`))
      })
      req.once('error', reject)
    })
  }
  const responses: IncomingMessage[] = []
  for (let first = 0; first < count; first += 50) {
    const batch = Array.from({ length: Math.min(50, count - first) }, (_, k) => open(first + k))
    responses.push(...(await Promise.all(batch)))
  }
  return responses
}

/** Redis's clock, in milliseconds: the one heartbeats (`seenAt`) are stamped with. */
async function redisNow(): Promise<number> {
  const [seconds, micros] = (await redisCommand(['TIME'])) as [string, string]
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}

/** When `store` last reported (Redis's clock), or -1 when it is not listed. */
async function seenAt(store: RedisStore): Promise<number> {
  const nodes = await store.cluster.nodes().catch(() => [])
  return nodes.find((node) => node.self)?.seenAt ?? -1
}

/**
 * Resolves once every store has run a heartbeat later than `ms` (Redis's clock) and then two
 * more: a heartbeat starts only after the previous one and its scan (its claims, and the
 * listeners told) ended, so each store has scanned after `ms`.
 */
async function scannedAfter(stores: readonly RedisStore[], ms: number): Promise<void> {
  for (const store of stores) {
    let seen = -1
    await until(
      async () => {
        seen = await seenAt(store)
        return seen > ms
      },
      () => `a heartbeat after ${ms} (last ${seen})`,
    )
    for (let beat = 0; beat < 2; beat++) {
      const from = seen
      await until(
        async () => {
          seen = await seenAt(store)
          return seen > from
        },
        () => `a heartbeat after ${from}`,
      )
    }
  }
}

/** The subscriber ids every node lists (the subscriptions API's view). */
async function listed(store: RedisStore): Promise<Set<string>> {
  return new Set((await store.listSubscriptions()).map((s) => s.subscriber))
}

/**
 * Checks the `subscribe` events the child node sent, one per subscriber, and returns them by
 * subscriber id (with the index of the subscriber, read back from its topic).
 */
function childSubscribes(
  events: Map<string, Received>,
  child: ChildNode,
  count: number,
): Map<string, Received & { readonly i: number }> {
  const bySubscriber = new Map<string, Received & { readonly i: number }>()
  for (const entry of events.values()) {
    const { event } = entry
    if (entry.from !== 'child' || event.type !== 'subscribe') continue
    assert.equal(bySubscriber.has(event.subscriber), false, `one subscribe for ${event.subscriber}`)
    assert.equal(event.node, child.id, "each event carries its node's id, the first ones included")
    const topic = event.selectors[0]?.match ?? ''
    const i = Number(/users\/(\d+)$/.exec(topic)?.[1])
    assert.equal(event.protocol, i % WITH_PAYLOAD === V1 ? '1.0' : '0.x')
    assert.deepEqual(event.selectors, [{ type: 'exact', match: topicOf(i) }])
    assert.deepEqual(event.payload, payloadOf(i))
    bySubscriber.set(event.subscriber, { ...entry, i })
  }
  assert.equal(bySubscriber.size, count, `a subscribe for each of the ${count} subscribers`)
  const indexes = new Set([...bySubscriber.values()].map((entry) => entry.i))
  assert.equal(indexes.size, count, 'one subscriber per topic')
  return bySubscriber
}

/** The nodes of one test, as far as they started: what its `finally` stops. */
interface Cluster {
  readonly survivors: Survivor[]
  child: ChildNode | undefined
  streams: IncomingMessage[]
}

/**
 * Starts two survivors and a child node with `count` subscribers, and waits until the receiver
 * has every subscriber's subscribe from the child and Redis lists every one of them.
 */
async function startCluster(
  cluster: Cluster,
  prefix: string,
  receiver: { url: string; arrivals: Arrival[] },
  count: number,
): Promise<{ node: ChildNode; subscribes: ReturnType<typeof childSubscribes>; a: Survivor }> {
  cluster.survivors.push(await startSurvivor(prefix, receiver.url, 'a'))
  cluster.survivors.push(await startSurvivor(prefix, receiver.url, 'b'))
  const node = await startChildNode(prefix, `${receiver.url}/child`)
  cluster.child = node
  cluster.streams = await subscribeMany(node.hubUrl, count)
  const fromChild = () =>
    [...received(receiver.arrivals).values()].filter((e) => e.from === 'child').length
  await until(
    () => fromChild() >= count,
    () => `${fromChild()} of ${count} subscribe events`,
  )
  const subscribes = childSubscribes(received(receiver.arrivals), node, count)
  const [a] = cluster.survivors as [Survivor, Survivor]
  const ids = [...subscribes.keys()]
  await until(
    async () => {
      const seen = await listed(a.store)
      return ids.every((id) => seen.has(id))
    },
    () => 'every subscriber of the child listed in Redis',
  )
  return { node, subscribes, a }
}

describe('presence webhooks in a Redis cluster', { skip }, () => {
  it("announce a killed node's 200 subscribers as gone exactly once, from one survivor, each after its subscribe", async (t) => {
    const SUBSCRIBERS = 200
    const prefix = uniquePrefix('webhooks-lost')
    const receiver = await startReceiver()
    const cluster: Cluster = { survivors: [], child: undefined, streams: [] }
    const { survivors } = cluster
    try {
      // Before the crash: every subscribe delivered, every subscriber registered in Redis.
      const { node, subscribes, a } = await startCluster(cluster, prefix, receiver, SUBSCRIBERS)
      assert.equal(await stopChild(node.started.child, 'SIGKILL'), null, 'killed, not exited')
      const killedAt = await redisNow()
      const lost = () =>
        [...received(receiver.arrivals).values()].filter((e) => e.event.reason === 'node-lost')
      await until(
        () => lost().length >= SUBSCRIBERS,
        () => `${lost().length} of ${SUBSCRIBERS} node-lost events`,
      )
      t.diagnostic(`${SUBSCRIBERS} node-lost events within ${(await redisNow()) - killedAt} ms`)
      // Past the lost node's retention (2 TTLs after its last heartbeat, itself before the kill):
      // any other claim would have been made by now. Closing the survivors delivers whatever
      // their webhooks still hold, so the arrivals below are all there will ever be.
      await scannedAfter(
        survivors.map((s) => s.store),
        killedAt + 2 * TTL_MS,
      )
      assert.equal(
        (await a.store.cluster.nodes()).some((n) => n.id === node.id),
        false,
        'the claimed node left the listing',
      )
      for (const survivor of survivors.splice(0)) await closeSurvivor(survivor)

      const events = received(receiver.arrivals)
      assert.equal(events.size, 2 * SUBSCRIBERS, 'a subscribe and a node-lost per subscriber')
      const senders = new Set<string>()
      const gone = new Set<string>()
      for (const { event, from, first } of events.values()) {
        if (event.type === 'subscribe') continue
        assert.equal(event.reason, 'node-lost', 'a crash gives no other unsubscribe')
        assert.equal(event.node, node.id, "the lost node's id")
        assert.equal(event.protocol, null)
        senders.add(from)
        assert.equal(gone.has(event.subscriber), false, `one node-lost for ${event.subscriber}`)
        gone.add(event.subscriber)
        const subscribe = subscribes.get(event.subscriber)
        assert.ok(subscribe, `${event.subscriber} was a subscriber of the lost node`)
        assert.ok(subscribe.last < first, `${event.subscriber}: subscribe before node-lost`)
        assert.deepEqual(event.selectors, subscribe.event.selectors)
        assert.deepEqual(event.payload, subscribe.event.payload, 'the payload, 1.0 ones included')
      }
      assert.equal(gone.size, SUBSCRIBERS)
      assert.equal(senders.size, 1, `sent by exactly one survivor: ${[...senders].join(', ')}`)
      assert.ok(senders.has('a') || senders.has('b'), 'by a survivor')
    } finally {
      for (const stream of cluster.streams) stream.destroy()
      if (cluster.child !== undefined) await stopChild(cluster.child.started.child, 'SIGKILL')
      for (const survivor of survivors) await closeSurvivor(survivor)
      await receiver.close()
      await deleteKeys(prefix)
    }
  })

  it('give server-closed unsubscribes, and no node-lost, when a node shuts down cleanly', async () => {
    const SUBSCRIBERS = 50
    const prefix = uniquePrefix('webhooks-closed')
    const receiver = await startReceiver()
    const cluster: Cluster = { survivors: [], child: undefined, streams: [] }
    const { survivors } = cluster
    try {
      const { node, subscribes, a } = await startCluster(cluster, prefix, receiver, SUBSCRIBERS)
      // The fixture's SIGTERM: the server closes (its webhooks delivered), then the store.
      assert.equal(await stopChild(node.started.child, 'SIGTERM'), 0, node.started.output())
      const closedAt = await redisNow()
      assert.equal(
        (await a.store.cluster.nodes()).some((n) => n.id === node.id),
        false,
        'a node that closed removed itself',
      )
      assert.equal((await listed(a.store)).size, 0, 'and its subscribers')
      // Long enough after the close for a survivor to have claimed the node, were it lost.
      await scannedAfter(
        survivors.map((s) => s.store),
        closedAt + 2 * TTL_MS,
      )
      for (const survivor of survivors.splice(0)) await closeSurvivor(survivor)

      const events = received(receiver.arrivals)
      assert.equal(events.size, 2 * SUBSCRIBERS, 'a subscribe and an unsubscribe per subscriber')
      const left = new Set<string>()
      for (const { event, from, first } of events.values()) {
        if (event.type === 'subscribe') continue
        assert.equal(from, 'child', 'sent by the node that closed, no one else')
        assert.equal(event.reason, 'server-closed')
        assert.equal(event.node, node.id)
        assert.equal(left.has(event.subscriber), false, `one unsubscribe for ${event.subscriber}`)
        left.add(event.subscriber)
        const subscribe = subscribes.get(event.subscriber)
        assert.ok(subscribe, `${event.subscriber} was a subscriber of the node`)
        assert.ok(subscribe.last < first, `${event.subscriber}: subscribe before unsubscribe`)
        assert.deepEqual(event.selectors, subscribe.event.selectors)
        assert.deepEqual(event.payload, subscribe.event.payload)
      }
      assert.equal(left.size, SUBSCRIBERS)
    } finally {
      for (const stream of cluster.streams) stream.destroy()
      if (cluster.child !== undefined) await stopChild(cluster.child.started.child, 'SIGKILL')
      for (const survivor of survivors) await closeSurvivor(survivor)
      await receiver.close()
      await deleteKeys(prefix)
    }
  })
})

import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { ClusterNode } from '../src/hub/cluster-view.ts'
import type { AdminSnapshot } from '../src/server/admin-stats.ts'
import { redisOptions } from '../src/server/open-store.ts'
import type { PresenceWebhookOptions } from '../src/server/presence-webhooks.ts'
import { createSsehubServer, type SsehubServer } from '../src/server/server.ts'
import { createRedisStore, type RedisStore } from '../src/storage/redis.ts'
import {
  type CollectedChild,
  spawnCollecting,
  stopChild,
  waitForOutput,
} from './helpers/child-process.ts'
import { publisherToken, publishTo } from './helpers/hub-process.ts'
import { TEST_SECRET } from './helpers/hub-server.ts'
import { eventually } from './helpers/raw-sse.ts'
import {
  deleteKeys,
  REDIS_URL,
  redisCommand,
  redisSkipReason,
  uniquePrefix,
} from './helpers/redis.ts'
import { type SseSubscription, subscribeSse } from './helpers/sse-events.ts'

// The dashboard's cluster table (docs/dashboard.md, `nodes` of the stats stream) read over HTTP
// from real ssehub servers sharing one Redis: two in this process, and a third in a child process
// that the test SIGKILLs, as a crash.

const skip = (await redisSkipReason()) ?? false

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const CHILD_NODE = join(ROOT, 'test', 'fixtures', 'ssehub-redis-node.ts')
const ADMIN_TOKEN = 'dashboard-redis-test-token-0123456789'
const WEBHOOK_SECRET = 'dashboard-redis-webhook-secret-0123456789'
const TOPIC = 'urn:dashboard:cluster'

/**
 * The subscription TTL: heartbeats every third of it. A killed node is lost a TTL after its last
 * heartbeat and its status expires a TTL later: long enough for the one-a-second stats stream to
 * show it lost at least once, short enough for a quick test.
 */
const TTL_MS = 2000

/** Most snapshots (about one a second) a wait reads before it fails: a bound, not a timing. */
const MAX_SNAPSHOTS = 30

/** One node as the tests reach it. */
interface HubNode {
  readonly id: string
  readonly base: string
  readonly hubUrl: string
}

/** A node in a child process: killed with SIGKILL, so it leaves its keys behind. */
interface ChildNode extends HubNode {
  kill(): Promise<void>
}

/** The nodes, streams and processes of one test, on one fresh key prefix; cleaned up after it. */
interface Cluster {
  /** Starts a node in this process, with the dashboard on (and presence webhooks, if given). */
  startNode(webhooks?: PresenceWebhookOptions): Promise<HubNode>
  /** Starts a node in a child process (`test/fixtures/ssehub-redis-node.ts`). */
  startChildNode(): Promise<ChildNode>
  /** Opens `count` subscriptions to {@link TOPIC} on `node`, each a real SSE connection. */
  subscribe(node: HubNode, count: number): Promise<SseSubscription[]>
  /** Opens the dashboard's statistics stream of `node`. */
  watchStats(node: HubNode): Promise<SseSubscription>
}

/** Runs `test` with a {@link Cluster}; then closes every stream, server and store, kills every child, deletes every key. */
async function withCluster(test: (cluster: Cluster) => Promise<void>): Promise<void> {
  const prefix = uniquePrefix('dashboard')
  // `SSEHUB_STORE`, as an operator gives it to the CLI.
  const storeUrl = `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`
  const servers: Array<{ server: SsehubServer; store: RedisStore }> = []
  const children: CollectedChild[] = []
  const streams: SseSubscription[] = []
  const cluster: Cluster = {
    async startNode(webhooks) {
      // Opened as the CLI's openStore opens it, with a short TTL the CLI does not offer.
      const store = await createRedisStore({ ...redisOptions(storeUrl), subscriptionTtlMs: TTL_MS })
      const server = createSsehubServer({
        heartbeatMs: null,
        shutdownGraceMs: 500,
        adminToken: ADMIN_TOKEN,
        ...(webhooks === undefined ? {} : { webhooks }),
        mercure: { store, publisherKey: TEST_SECRET, subscriberKey: TEST_SECRET, anonymous: true },
      })
      servers.push({ server, store })
      const { url } = await server.listen(0, '127.0.0.1')
      const self = (await store.cluster.nodes()).find((node) => node.self)
      assert.ok(self, 'a store lists its own node')
      return { id: self.id, base: url, hubUrl: `${url}/.well-known/mercure` }
    },
    async startChildNode() {
      const started = spawnCollecting(
        process.execPath,
        ['--import', 'tsx', CHILD_NODE, storeUrl, String(TTL_MS)],
        { cwd: ROOT },
      )
      children.push(started)
      const [, id, base] = (await waitForOutput(
        started,
        /ready (\S+) (\S+)\n/,
        'the child node',
        30_000,
      )) as unknown as [string, string, string]
      return {
        id,
        base,
        hubUrl: `${base}/.well-known/mercure`,
        async kill() {
          assert.equal(await stopChild(started.child, 'SIGKILL'), null, 'killed, not exited')
        },
      }
    },
    async subscribe(node, count) {
      const opened: SseSubscription[] = []
      for (let i = 0; i < count; i++) {
        const subscription = await subscribeSse(`${node.hubUrl}?topic=${encodeURIComponent(TOPIC)}`)
        streams.push(subscription)
        assert.equal(subscription.status, 200)
        opened.push(subscription)
      }
      return opened
    },
    async watchStats(node) {
      const stats = await subscribeSse(`${node.base}/admin/stats`, {
        authorization: `Bearer ${ADMIN_TOKEN}`,
      })
      streams.push(stats)
      assert.equal(stats.status, 200)
      return stats
    },
  }
  try {
    await test(cluster)
  } finally {
    for (const stream of streams) stream.close()
    for (const { child } of children) await stopChild(child, 'SIGKILL')
    for (const { server, store } of servers) {
      await server.close()
      await store.close()
    }
    await deleteKeys(prefix)
  }
}

/** Reads snapshots from now on until one satisfies `done`; fails after {@link MAX_SNAPSHOTS}. */
async function statsUntil(
  stats: SseSubscription,
  what: string,
  done: (snapshot: AdminSnapshot) => boolean,
): Promise<AdminSnapshot> {
  let index = stats.events.length
  let last: AdminSnapshot | undefined
  for (let read = 0; read < MAX_SNAPSHOTS; read++) {
    await stats.waitForEvents(index + 1)
    const event = stats.events[index++]
    assert.ok(event)
    assert.equal(event.type, 'stats')
    last = JSON.parse(event.data) as AdminSnapshot
    if (done(last)) return last
  }
  throw new Error(`no snapshot showed that ${what}; the last: ${JSON.stringify(last?.nodes)}`)
}

/** The row of node `id` in a snapshot, `undefined` when it has none. */
function rowOf(snapshot: AdminSnapshot, id: string): ClusterNode | undefined {
  return snapshot.nodes?.find((node) => node.id === id)
}

/** Redis's clock, in milliseconds: the one `seenAt` is in. */
async function redisNow(): Promise<number> {
  const [seconds, micros] = (await redisCommand(['TIME'])) as [string, string]
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
}

/**
 * The first snapshot that shows, for every node of `ids`, a heartbeat that began after this call:
 * what each node had when called is what that snapshot reports. A heartbeat Redis ran after now
 * may have read its count before; a node's heartbeats never overlap, so its next one began after.
 */
async function afterNextHeartbeats(
  stats: SseSubscription,
  ids: readonly string[],
): Promise<AdminSnapshot> {
  const mark = await redisNow()
  const beat = await statsUntil(stats, 'every node beat after the mark', (snapshot) =>
    ids.every((id) => (rowOf(snapshot, id)?.seenAt ?? -1) > mark),
  )
  const seen = new Map(ids.map((id) => [id, rowOf(beat, id)?.seenAt ?? -1]))
  return statsUntil(stats, 'every node beat once more', (snapshot) =>
    ids.every((id) => (rowOf(snapshot, id)?.seenAt ?? -1) > (seen.get(id) ?? -1)),
  )
}

/** The rows of a snapshot without `seenAt` (Redis's clock, checked apart), sorted by id. */
function rows(
  snapshot: AdminSnapshot,
): Array<Pick<ClusterNode, 'id' | 'self' | 'alive' | 'subscribers' | 'lagMs'>> {
  assert.ok(snapshot.nodes, 'a snapshot of a Redis hub has a node table')
  return snapshot.nodes.map(({ id, self, alive, subscribers, lagMs }) => ({
    id,
    self,
    alive,
    subscribers,
    lagMs,
  }))
}

/** The fields of a presence webhook event the test reads (docs/webhooks.md). */
interface WebhookEvent {
  readonly type: string
  readonly reason: string | null
  readonly node: string | null
  readonly subscriber: string
  readonly selectors: ReadonlyArray<{ readonly match: string }>
}

type Row = ReturnType<typeof rows>[number]

function byId(a: Row, b: Row): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
}

/**
 * Three nodes with 3, 1 and 2 subscribers, caught up with one update: resolves once the stats
 * stream of the first shows all three as of a heartbeat after that, and checks that table.
 */
async function startThreeNodes(
  cluster: Cluster,
  webhooks?: PresenceWebhookOptions,
): Promise<{ a: HubNode; b: HubNode; c: ChildNode; stats: SseSubscription }> {
  const a = await cluster.startNode(webhooks)
  const b = await cluster.startNode(webhooks)
  const c = await cluster.startChildNode()
  const subscriptions = [
    ...(await cluster.subscribe(a, 3)),
    ...(await cluster.subscribe(b, 1)),
    ...(await cluster.subscribe(c, 2)),
  ]
  // One update every node delivers: "idle" then means caught up, not an empty stream.
  const published = await publishTo(b.hubUrl, await publisherToken(), { topic: TOPIC, data: 'x' })
  assert.equal(published.status, 200, published.body)
  for (const subscription of subscriptions) await subscription.waitForEvents(1)
  const stats = await cluster.watchStats(a)
  const snapshot = await afterNextHeartbeats(stats, [a.id, b.id, c.id])
  assert.deepEqual(
    rows(snapshot),
    [
      { id: a.id, self: true, alive: true, subscribers: 3, lagMs: 0 },
      { id: b.id, self: false, alive: true, subscribers: 1, lagMs: 0 },
      { id: c.id, self: false, alive: true, subscribers: 2, lagMs: 0 },
    ].sort(byId),
    'one row per node, sorted by id: itself, alive, its subscribers, caught up',
  )
  assert.equal(snapshot.subscribers, 3, 'the node’s own count, as its row says')
  assert.deepEqual(snapshot.store?.kind, 'redis')
  return { a, b, c, stats }
}

describe('the dashboard’s cluster table on a Redis cluster', { skip }, () => {
  it('lists every node with its subscribers, then a killed node as lost until its status expires', async () => {
    await withCluster(async (cluster) => {
      const { a, b, c, stats } = await startThreeNodes(cluster)
      await c.kill()
      // No node listens for lost nodes (no presence webhooks), so none claims it: it stays
      // listed, not alive, with what its last heartbeat reported, until its status expires.
      const lost = await statsUntil(stats, 'the killed node is lost', (snapshot) => {
        if (snapshot.nodes === null) return false
        const row = rowOf(snapshot, c.id)
        assert.ok(row, 'listed until it is lost: nobody claims it')
        return !row.alive
      })
      assert.deepEqual(
        rows(lost),
        [
          { id: a.id, self: true, alive: true, subscribers: 3, lagMs: 0 },
          { id: b.id, self: false, alive: true, subscribers: 1, lagMs: 0 },
          { id: c.id, self: false, alive: false, subscribers: 2, lagMs: 0 },
        ].sort(byId),
      )
      // Its status and subscribers are kept two TTLs after its last heartbeat, then expire.
      const expired = await statsUntil(
        stats,
        'the lost node left the table',
        (snapshot) => snapshot.nodes !== null && rowOf(snapshot, c.id) === undefined,
      )
      assert.deepEqual(
        rows(expired),
        [
          { id: a.id, self: true, alive: true, subscribers: 3, lagMs: 0 },
          { id: b.id, self: false, alive: true, subscribers: 1, lagMs: 0 },
        ].sort(byId),
      )
    })
  })

  it('drops a killed node’s row once a survivor claims it for its presence webhooks', async () => {
    const received: WebhookEvent[] = []
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as WebhookEvent)
        res.writeHead(204).end()
      })
    })
    receiver.listen(0, '127.0.0.1')
    await once(receiver, 'listening')
    const { port } = receiver.address() as { port: number }
    try {
      await withCluster(async (cluster) => {
        // Both survivors listen for lost nodes: exactly one of them claims the killed node.
        const webhooks = {
          urls: [`http://127.0.0.1:${port}/presence#node-lost`],
          secret: WEBHOOK_SECRET,
        }
        const { a, b, c, stats } = await startThreeNodes(cluster, webhooks)
        await c.kill()
        const claimed = await statsUntil(
          stats,
          'the killed node left the table',
          (snapshot) => snapshot.nodes !== null && rowOf(snapshot, c.id) === undefined,
        )
        assert.deepEqual(
          rows(claimed),
          [
            { id: a.id, self: true, alive: true, subscribers: 3, lagMs: 0 },
            { id: b.id, self: false, alive: true, subscribers: 1, lagMs: 0 },
          ].sort(byId),
        )
        // Claimed, not expired: its subscribers were announced as gone.
        await eventually(() => received.length >= 2, 'the node-lost events of its two subscribers')
        // Every survivor scans twice more: nobody claims it again.
        await afterNextHeartbeats(stats, [a.id, b.id])
        assert.equal(received.length, 2, 'announced once, by one survivor')
        for (const event of received) {
          assert.equal(event.type, 'unsubscribe')
          assert.equal(event.reason, 'node-lost')
          assert.equal(event.node, c.id)
          assert.deepEqual(
            event.selectors.map((selector) => selector.match),
            [TOPIC],
          )
        }
        assert.equal(new Set(received.map((event) => event.subscriber)).size, 2)
      })
    } finally {
      receiver.closeAllConnections()
      receiver.close()
      await once(receiver, 'close')
    }
  })
})

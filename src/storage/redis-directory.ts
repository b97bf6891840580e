import {
  type ActiveSubscription,
  type DirectorySubscriber,
  type SubscriptionDirectory,
  subscriptionsOf,
} from '../hub/subscription-directory.ts'
import { CLUSTER_SCRIPTS, RedisClusterView } from './redis-cluster.ts'
import type { RedisCommands } from './redis-commands.ts'
import {
  HEARTBEAT,
  nodesKey,
  RETENTION_FACTOR,
  readStatuses,
  statusKey,
  subscriptionsKey,
} from './redis-node-status.ts'
import { type PubSubConnection, RedisEventRelay } from './redis-relay.ts'
import { defineScript } from './redis-scripts.ts'
import { describeSubscriber, parseSubscriber } from './redis-subscriber-record.ts'

/** Options of {@link RedisSubscriptionDirectory}. */
export interface RedisDirectoryOptions {
  commands: RedisCommands
  /** The store's key prefix. */
  prefix: string
  /** This node's id: its subscribers live under `<prefix>subscriptions:<nodeId>`. */
  nodeId: string
  /**
   * How long after its last heartbeat a node counts as lost (its subscribers unlisted, then
   * claimed by a survivor), in milliseconds. Its keys are kept `RETENTION_FACTOR` times as long.
   */
  ttlMs: number
  /** The shared stream's key: the heartbeat reports how far this node trails it. */
  stream: string
  /** The newest entry id this node delivered (`null` before the first). */
  head: () => string | null
  /** Makes the connection subscription events are received on (see `redis-relay.ts`). */
  pubsub: () => PubSubConnection
  /** The database number, which the channel of subscription events names (see `databaseOf`). */
  database: string
  /** Told about failures to reach Redis (they are retried). */
  onError: (error: unknown) => void
}

/** Records one subscriber, with the key's lifetime and the node's membership, in one step. */
const ADD = defineScript(`
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[4])
return 1
`)

/** Replaces this node's whole hash: after an outage, a Redis restart, or a failed write. */
const REWRITE = defineScript(`
redis.call('DEL', KEYS[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
if #ARGV > 2 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
redis.call('SADD', KEYS[2], ARGV[2])
return 1
`)

/** The scripts the directory runs, for the store to load them on every (re)connection. */
export const DIRECTORY_SCRIPTS = [ADD, REWRITE, HEARTBEAT, ...CLUSTER_SCRIPTS] as const

/**
 * The active subscriptions of every node, in Redis: each node keeps its own subscribers in a hash
 * (`<prefix>subscriptions:<nodeId>`, subscriber id → selectors and payload), registers in the set
 * `<prefix>nodes`, and writes its status at every heartbeat (`redis-node-status.ts`). A node that
 * stops without closing (killed) drops out of the listing once its last heartbeat is older than
 * the TTL; a survivor then claims its subscribers ({@link RedisSubscriptionDirectory.cluster}).
 * A node that closes removes its keys: it is not lost. Subscription events are never in the
 * shared stream: {@link RedisSubscriptionDirectory.events} relays them on the Pub/Sub channel
 * `<prefix>subscription-events:<db>`, behind this node's directory writes (one command
 * connection).
 */
export class RedisSubscriptionDirectory implements SubscriptionDirectory {
  readonly #commands: RedisCommands
  readonly #key: string
  readonly #nodesKey: string
  readonly #prefix: string
  readonly #statusKey: string
  readonly #nodeId: string
  readonly #ttlMs: number
  readonly #stream: string
  readonly #head: () => string | null
  readonly #onError: (error: unknown) => void
  readonly #local = new Map<string, DirectorySubscriber>()
  /**
   * A write failed: Redis may hold a stale hash, so the next heartbeat rewrites it whole. Set at
   * first: a node id used before (never, with random ids) has its hash replaced, not inherited.
   */
  #dirty = true
  #timer: ReturnType<typeof setInterval> | undefined
  /** The heartbeat (and its scan) running: the timer skips a tick rather than pile them up. */
  #beating: Promise<void> | undefined
  #closed = false
  /** Since when (`performance.now()`) this node's heartbeats have been unbroken, or `null`. */
  #steadySince: number | null = null
  /** Subscription events, live to every node's watchers. */
  readonly events: RedisEventRelay
  /** The nodes sharing the store, and the claim of those lost. */
  readonly cluster: RedisClusterView

  constructor(options: RedisDirectoryOptions) {
    this.#commands = options.commands
    this.#prefix = options.prefix
    this.#nodeId = options.nodeId
    this.#key = subscriptionsKey(options.prefix, options.nodeId)
    this.#nodesKey = nodesKey(options.prefix)
    this.#statusKey = statusKey(options.prefix, options.nodeId)
    this.#ttlMs = options.ttlMs
    this.#stream = options.stream
    this.#head = options.head
    this.#onError = options.onError
    this.cluster = new RedisClusterView({
      commands: options.commands,
      prefix: options.prefix,
      nodeId: options.nodeId,
      ttlMs: options.ttlMs,
      onError: (error) => this.#onError(error),
    })
    this.events = new RedisEventRelay({
      channel: `${options.prefix}subscription-events:${options.database}`,
      connect: options.pubsub,
      send: (args) => this.#commands.send(args),
      onError: (error) => this.#onError(error),
    })
  }

  /**
   * Registers this node (one heartbeat), starts the heartbeat (a third of the TTL: a live node
   * must miss two in a row, slow or cut off from Redis for a whole TTL, before it looks lost),
   * and the relay of subscription events (resolves once it listens, or after `timeoutMs`).
   */
  async start(timeoutMs: number): Promise<void> {
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => void this.heartbeat(), Math.max(10, this.#ttlMs / 3))
      // Housekeeping: it must not keep an otherwise finished process alive.
      this.#timer.unref()
      await this.heartbeat()
    }
    await this.events.start(timeoutMs)
  }

  addSubscriber(subscriber: DirectorySubscriber): void {
    this.#local.set(subscriber.id, subscriber)
    const args = [this.#retention, subscriber.id, describeSubscriber(subscriber), this.#nodeId]
    this.#commands.run(ADD, [this.#key, this.#nodesKey], args).catch(this.#failed)
  }

  deleteSubscriber(subscriber: DirectorySubscriber): void {
    if (!this.#local.delete(subscriber.id)) return
    this.#commands.send(['HDEL', this.#key, subscriber.id]).catch(this.#failed)
  }

  async listSubscriptions(): Promise<ActiveSubscription[]> {
    const nodes = (await this.#commands.send(['SMEMBERS', this.#nodesKey])) as string[]
    // One round trip for all nodes: the driver pipelines commands sent in the same tick.
    const [statuses, hashes] = await Promise.all([
      readStatuses(this.#commands, this.#prefix, this.#ttlMs, nodes),
      Promise.all(
        nodes.map((node) => this.#commands.send(['HGETALL', subscriptionsKey(this.#prefix, node)])),
      ) as Promise<string[][]>,
    ])
    const subscriptions: ActiveSubscription[] = []
    for (const [i, hash] of hashes.entries()) {
      const node = nodes[i] as string
      // Lost (heartbeat older than the TTL): its subscribers are gone, though its hash is kept
      // for a survivor to claim. This node lists its own, even when its heartbeat is late.
      if (node !== this.#nodeId && statuses.get(node)?.alive === false) continue
      for (let j = 0; j + 1 < hash.length; j += 2) {
        const subscriber = parseSubscriber(hash[j] as string, hash[j + 1] as string)
        if (subscriber !== undefined) subscriptions.push(...subscriptionsOf(subscriber))
      }
    }
    return subscriptions
  }

  /**
   * Writes this node's status and refreshes its keys, rewriting its hash when Redis lost it or
   * may hold a stale one; then looks for lost nodes to claim (`redis-cluster.ts`). Never rejects.
   *
   * A node claimed by mistake (its heartbeats late by a whole TTL, yet alive: an event loop
   * blocked that long) had its subscribers announced as gone; its next heartbeat finds its status
   * gone and writes its subscribers back, so it is listed again, but no subscribe event is sent
   * for them.
   */
  heartbeat(): Promise<void> {
    if (this.#closed) return Promise.resolve()
    this.#beating ??= this.#heartbeat().finally(() => {
      this.#beating = undefined
    })
    return this.#beating
  }

  async #heartbeat(): Promise<void> {
    await this.#beat()
    const steady =
      this.#steadySince !== null && performance.now() - this.#steadySince >= this.#ttlMs
    await this.cluster.scan(steady)
  }

  async #beat(): Promise<void> {
    try {
      const keys = [this.#statusKey, this.#key, this.#nodesKey, this.#stream]
      const args = [this.#retention, this.#nodeId, String(this.#local.size), this.#head() ?? '']
      const [kept, previousAgeMs] = (await this.#commands.run(HEARTBEAT, keys, args)) as [
        number,
        number,
      ]
      // A previous heartbeat older than the TTL (or none): this node, or Redis, was away, and so
      // may every other node have been. Claims wait for a TTL of heartbeats: the others beat again
      // by then, rather than be claimed as lost by the first node back.
      if (previousAgeMs < 0 || previousAgeMs > this.#ttlMs) this.#steadySince = performance.now()
      // No status: first heartbeat, Redis lost its keys, or a survivor claimed this node.
      const intact = kept === 1 && previousAgeMs >= 0
      if (!this.#dirty && (intact || this.#local.size === 0)) return
      this.#dirty = false
      const rewrite = [this.#retention, this.#nodeId]
      for (const subscriber of this.#local.values()) {
        rewrite.push(subscriber.id, describeSubscriber(subscriber))
      }
      await this.#commands.run(REWRITE, [this.#key, this.#nodesKey], rewrite)
    } catch (error) {
      this.#dirty = true
      this.#steadySince = null
      this.#onError(error)
    }
  }

  /**
   * Stops the heartbeat and the relay, and removes this node's keys from Redis: it is not lost.
   * Waits for a heartbeat under way (and the claims it read are told): one landing after the
   * removal would write a status back, and the node would later look lost.
   */
  async close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    this.events.close()
    await this.#beating
    this.cluster.close()
    this.#local.clear()
    await Promise.all([
      this.#commands.send(['DEL', this.#key, this.#statusKey]),
      this.#commands.send(['SREM', this.#nodesKey, this.#nodeId]),
    ]).catch(() => {})
  }

  /** How long this node's keys outlive its last heartbeat, in milliseconds. */
  get #retention(): string {
    return String(RETENTION_FACTOR * this.#ttlMs)
  }

  readonly #failed = (error: unknown): void => {
    this.#dirty = true
    this.#onError(error)
  }
}

import type { SubscribePayload } from '../hub/subscriber.ts'
import {
  type ActiveSubscription,
  type DirectorySubscriber,
  type SubscriptionDirectory,
  subscriptionsOf,
} from '../hub/subscription-directory.ts'
import { type PubSubConnection, RedisEventRelay } from './redis-relay.ts'
import { defineScript } from './redis-scripts.ts'

/** What the directory needs from the store's Redis connection (`redis.ts` provides it). */
export interface RedisCommands {
  /** Sends one command; rejects when Redis cannot answer. */
  send(args: readonly string[]): Promise<unknown>
  /** Runs a script (`EVALSHA`, falling back to `EVAL`). */
  run(source: { source: string; sha1: string }, keys: string[], args: string[]): Promise<unknown>
}

/** Options of {@link RedisSubscriptionDirectory}. */
export interface RedisDirectoryOptions {
  commands: RedisCommands
  /** The store's key prefix. */
  prefix: string
  /** This node's id: its subscribers live under `<prefix>subscriptions:<nodeId>`. */
  nodeId: string
  /** How long a node's subscribers outlive its last heartbeat, in milliseconds. */
  ttlMs: number
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
export const DIRECTORY_SCRIPTS = [ADD, REWRITE] as const

/**
 * The active subscriptions of every node, in Redis: each node keeps its own subscribers in a hash
 * (`<prefix>subscriptions:<nodeId>`, subscriber id → selectors and payload) whose TTL a heartbeat
 * refreshes, and registers in the set `<prefix>nodes`. A node that stops (or is killed) drops
 * out of the listing once its TTL passes. Subscription events are never in the shared stream:
 * {@link RedisSubscriptionDirectory.events} relays them on the Pub/Sub channel
 * `<prefix>subscription-events:<db>`, behind this node's directory writes (one command
 * connection).
 */
export class RedisSubscriptionDirectory implements SubscriptionDirectory {
  readonly #commands: RedisCommands
  readonly #key: string
  readonly #nodesKey: string
  readonly #prefix: string
  readonly #nodeId: string
  readonly #ttlMs: number
  readonly #onError: (error: unknown) => void
  readonly #local = new Map<string, DirectorySubscriber>()
  /** A write failed: Redis may hold a stale hash, so the next heartbeat rewrites it whole. */
  #dirty = false
  #timer: ReturnType<typeof setInterval> | undefined
  /** Subscription events, live to every node's watchers. */
  readonly events: RedisEventRelay

  constructor(options: RedisDirectoryOptions) {
    this.#commands = options.commands
    this.#prefix = options.prefix
    this.#nodeId = options.nodeId
    this.#key = `${options.prefix}subscriptions:${options.nodeId}`
    this.#nodesKey = `${options.prefix}nodes`
    this.#ttlMs = options.ttlMs
    this.#onError = options.onError
    this.events = new RedisEventRelay({
      channel: `${options.prefix}subscription-events:${options.database}`,
      connect: options.pubsub,
      send: (args) => this.#commands.send(args),
      onError: (error) => this.#onError(error),
    })
  }

  /**
   * Starts the heartbeat (a third of the TTL), so a short outage never expires a live node, and
   * the relay of subscription events (resolves once it listens, or after `timeoutMs`).
   */
  async start(timeoutMs: number): Promise<void> {
    this.#timer ??= setInterval(() => void this.heartbeat(), Math.max(10, this.#ttlMs / 3))
    // Housekeeping: it must not keep an otherwise finished process alive.
    this.#timer.unref()
    await this.events.start(timeoutMs)
  }

  addSubscriber(subscriber: DirectorySubscriber): void {
    this.#local.set(subscriber.id, subscriber)
    const args = [String(this.#ttlMs), subscriber.id, describe(subscriber), this.#nodeId]
    this.#commands.run(ADD, [this.#key, this.#nodesKey], args).catch(this.#failed)
  }

  deleteSubscriber(subscriber: DirectorySubscriber): void {
    if (!this.#local.delete(subscriber.id)) return
    this.#commands.send(['HDEL', this.#key, subscriber.id]).catch(this.#failed)
  }

  async listSubscriptions(): Promise<ActiveSubscription[]> {
    const nodes = (await this.#commands.send(['SMEMBERS', this.#nodesKey])) as string[]
    // One round trip for all nodes: the driver pipelines commands sent in the same tick.
    const hashes = (await Promise.all(
      nodes.map((node) => this.#commands.send(['HGETALL', `${this.#prefix}subscriptions:${node}`])),
    )) as string[][]
    const subscriptions: ActiveSubscription[] = []
    for (const [i, hash] of hashes.entries()) {
      // Expired: the node stopped without saying so (killed). Its heartbeat re-adds it if alive.
      if (hash.length === 0 && nodes[i] !== this.#nodeId) {
        this.#commands.send(['SREM', this.#nodesKey, nodes[i] as string]).catch(() => {})
      }
      for (let j = 0; j + 1 < hash.length; j += 2) {
        const subscriber = parse(hash[j] as string, hash[j + 1] as string)
        if (subscriber !== undefined) subscriptions.push(...subscriptionsOf(subscriber))
      }
    }
    return subscriptions
  }

  /** Refreshes this node's TTL, rewriting its hash when Redis lost it or may hold a stale one. */
  async heartbeat(): Promise<void> {
    try {
      if (!this.#dirty) {
        const [alive] = (await Promise.all([
          this.#commands.send(['PEXPIRE', this.#key, String(this.#ttlMs)]),
          this.#commands.send(['SADD', this.#nodesKey, this.#nodeId]),
        ])) as [number, number]
        if (alive === 1 || this.#local.size === 0) return
      }
      this.#dirty = false
      const args = [String(this.#ttlMs), this.#nodeId]
      for (const subscriber of this.#local.values()) args.push(subscriber.id, describe(subscriber))
      await this.#commands.run(REWRITE, [this.#key, this.#nodesKey], args)
    } catch (error) {
      this.#dirty = true
      this.#onError(error)
    }
  }

  /** Stops the heartbeat and the relay, and removes this node's subscribers from Redis. */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    this.events.close()
    this.#local.clear()
    await Promise.all([
      this.#commands.send(['DEL', this.#key]),
      this.#commands.send(['SREM', this.#nodesKey, this.#nodeId]),
    ]).catch(() => {})
  }

  readonly #failed = (error: unknown): void => {
    this.#dirty = true
    this.#onError(error)
  }
}

function describe(subscriber: DirectorySubscriber): string {
  const claims = subscriber.claims
  const record: { selectors: readonly string[]; payload?: unknown; subscribePayloads?: unknown } = {
    selectors: subscriber.selectors,
  }
  if (claims?.payload !== undefined) record.payload = claims.payload
  // Mercure 1.0: the `subscribe` details' selectors and payloads, from which every node picks a
  // subscription's payload as the subscriber's own node does (see `subscription-payload.ts`).
  if (claims?.subscribePayloads !== undefined) record.subscribePayloads = claims.subscribePayloads
  return JSON.stringify(record)
}

function parse(id: string, json: string): DirectorySubscriber | undefined {
  try {
    const value = JSON.parse(json) as {
      selectors?: unknown
      payload?: unknown
      subscribePayloads?: unknown
    }
    if (!Array.isArray(value.selectors)) return undefined
    const selectors = value.selectors.filter((s): s is string => typeof s === 'string')
    const details = Array.isArray(value.subscribePayloads)
      ? value.subscribePayloads.filter(
          (detail): detail is SubscribePayload =>
            typeof detail === 'object' &&
            detail !== null &&
            Array.isArray((detail as { selectors?: unknown }).selectors),
        )
      : undefined
    if (details !== undefined) return { id, selectors, claims: { subscribePayloads: details } }
    return { id, selectors, claims: 'payload' in value ? { payload: value.payload } : null }
  } catch {
    return undefined
  }
}

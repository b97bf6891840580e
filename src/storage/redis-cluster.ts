import type { ClusterNode, ClusterView, LostNode, LostSubscriber } from '../hub/cluster-view.ts'
import type { RedisCommands } from './redis-commands.ts'
import { fail } from './redis-failures.ts'
import {
  nodesKey,
  RETENTION_FACTOR,
  readStatuses,
  statusKey,
  subscriptionsKey,
} from './redis-node-status.ts'
import { defineScript } from './redis-scripts.ts'
import { parseSubscriber } from './redis-subscriber-record.ts'

/** Options of {@link RedisClusterView}. */
export interface RedisClusterOptions {
  commands: RedisCommands
  /** The store's key prefix. */
  prefix: string
  /** This node's id. */
  nodeId: string
  /** How long after its last heartbeat a node counts as lost, in milliseconds. */
  ttlMs: number
  /** Told about failures to reach Redis (the scan runs again at the next heartbeat). */
  onError: (error: unknown) => void
}

/**
 * Fields read from a claimed hash per HSCAN round trip. A lost node may have registered any
 * number of subscribers: no single reply (and no single script call, during which Redis serves
 * nobody else) grows with it.
 */
const SCAN_COUNT = 500

/**
 * Claims a lost node, in one step, so that exactly one survivor gets it. `KEYS`: the nodes set,
 * the node's status, its subscribers hash, the key to move them to. `ARGV`: node id, TTL (ms),
 * retention of the moved hash (ms), `1` to claim (`0`: only drop a member without a trace).
 *
 * A member without a status but with subscribers is left alone: a node of an earlier version
 * (which writes no status), or one whose status `maxmemory` evicted (its next heartbeat writes it
 * back). Returns the number of subscribers moved, or nil when the node was not claimed.
 */
const CLAIM = defineScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return false end
local seen = redis.call('HGET', KEYS[2], 'seenAt')
if not seen then
  if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SREM', KEYS[1], ARGV[1]) end
  return false
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local seenAt = tonumber(seen)
if ARGV[4] ~= '1' or (seenAt and now - seenAt <= tonumber(ARGV[2])) then return false end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
local count = redis.call('HLEN', KEYS[3])
if count > 0 then
  redis.call('RENAME', KEYS[3], KEYS[4])
  redis.call('PEXPIRE', KEYS[4], ARGV[3])
end
return count
`)

/** The scripts of the cluster view, for the store to load them on every (re)connection. */
export const CLUSTER_SCRIPTS = [CLAIM] as const

/** A claim whose subscribers are still to be read (the read failed: retried at the next scan). */
interface Claim {
  readonly id: string
  readonly key: string
  readonly count: number
}

/**
 * The cluster as a Redis store sees it (see `redis-node-status.ts` for the keys): the nodes with
 * their last heartbeat, and the claim of lost nodes. The directory's heartbeat calls
 * {@link RedisClusterView.scan} after each of this node's heartbeats.
 *
 * Timing, where the schedulers meet (TTL `t`, heartbeat every `t/3` on every node):
 * - a node killed right after its heartbeat at T is dead from T + t, and claimed by the first
 *   survivor scan after that: by T + t + t/3, plus the scan itself;
 * - its status and subscribers are kept until T + 2t: a claim after that finds nothing, and its
 *   subscribers are never announced (at most once, never twice);
 * - a node claims only after `t` of unbroken heartbeats of its own (see `redis-directory.ts`):
 *   after an outage of Redis, or of this node's connection, longer than `t`, every status is
 *   stale, and the first node back would otherwise claim every other one;
 * - the claimed subscribers are moved to a key of the claim, kept 2t: a claimer whose read fails
 *   retries at its next scans; one that dies first takes them with it (never announced).
 *
 * Exactly one winner: the claim is one script (membership removed, status deleted, hash moved),
 * so a second survivor scanning at the same moment finds the node no longer a member. A Redis
 * restart without persistence loses every key, the nodes set included: nobody is lost, and every
 * node registers again at its next heartbeat.
 */
export class RedisClusterView implements ClusterView {
  readonly #options: RedisClusterOptions
  // A wrapper per registration, so one function registered twice is called twice.
  readonly #listeners = new Set<{ readonly listener: (node: LostNode) => void }>()
  readonly #claims: Claim[] = []
  #claimed = 0
  #closed = false

  constructor(options: RedisClusterOptions) {
    this.#options = options
  }

  /** This node's id: the store's, fixed when it was created. */
  get nodeId(): string {
    return this.#options.nodeId
  }

  /**
   * Every member of the cluster with a status, this node included, sorted by id: alive ones, and
   * lost ones no survivor has claimed yet (`alive: false`; claimed nodes leave the listing).
   */
  async nodes(): Promise<ClusterNode[]> {
    const { commands, prefix, ttlMs, nodeId } = this.#options
    try {
      const ids = (await commands.send(['SMEMBERS', nodesKey(prefix)])) as string[]
      const statuses = await readStatuses(commands, prefix, ttlMs, ids)
      const nodes: ClusterNode[] = []
      for (const [id, status] of statuses) {
        if (status === null) continue
        nodes.push({ id, self: id === nodeId, ...status })
      }
      return nodes.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    } catch (error) {
      return fail('could not list the nodes')(error)
    }
  }

  /**
   * Calls `listener` with each node this one claims. A node claims lost nodes only while it has a
   * listener: a node whose hub does not listen must not take the event from one that does.
   */
  onNodeLost(listener: (node: LostNode) => void): () => void {
    const entry = { listener }
    this.#listeners.add(entry)
    return () => {
      this.#listeners.delete(entry)
    }
  }

  /**
   * Looks for lost nodes and claims them (when `mayClaim` and someone listens), then reads the
   * subscribers of each claim and tells the listeners. Drops members that left no trace (their
   * keys expired). Never rejects: failures are reported and retried at the next scan.
   */
  async scan(mayClaim: boolean): Promise<void> {
    const { commands, prefix, ttlMs, nodeId } = this.#options
    try {
      const ids = (await commands.send(['SMEMBERS', nodesKey(prefix)])) as string[]
      const statuses = await readStatuses(commands, prefix, ttlMs, ids)
      const claim = mayClaim && this.#listeners.size > 0 && !this.#closed
      for (const [id, status] of statuses) {
        if (id === nodeId || status?.alive === true) continue
        // Unique per claim: a node id claimed again (a false claim, see `redis-directory.ts`)
        // never overwrites a claim still being read.
        const key = `${prefix}lost:${id}:${nodeId}:${this.#claimed++}`
        const keys = [nodesKey(prefix), statusKey(prefix, id), subscriptionsKey(prefix, id), key]
        const retention = String(RETENTION_FACTOR * ttlMs)
        const reply = await commands.run(CLAIM, keys, [
          id,
          String(ttlMs),
          retention,
          claim ? '1' : '0',
        ])
        if (typeof reply === 'number') this.#claims.push({ id, key, count: reply })
      }
    } catch (error) {
      this.#options.onError(error)
    }
    while (this.#claims.length > 0 && !this.#closed) {
      const claim = this.#claims[0] as Claim
      try {
        const subscribers = await this.#read(claim)
        this.#claims.shift()
        this.#emit({ id: claim.id, subscribers })
      } catch (error) {
        this.#options.onError(error)
        return
      }
    }
  }

  /** Stops claiming and telling listeners. Claims not yet read expire with their keys. */
  close(): void {
    this.#closed = true
    this.#listeners.clear()
  }

  /** The subscribers of a claim, a page at a time; deletes the claimed hash once read. */
  async #read(claim: Claim): Promise<LostSubscriber[]> {
    const { commands } = this.#options
    const subscribers = new Map<string, LostSubscriber>()
    if (claim.count > 0) {
      if (Number(await commands.send(['EXISTS', claim.key])) === 0) {
        // Reads failed until the claimed hash expired (RETENTION_FACTOR TTLs).
        throw new Error(
          `the subscribers of lost node ${claim.id} expired before they could be read: they are not announced`,
        )
      }
      // HSCAN visits at most about twice as many buckets as fields, COUNT per call: the bound
      // only stops a loop that Redis would otherwise never end.
      const maxPages = Math.ceil((2 * claim.count) / SCAN_COUNT) + 16
      let cursor = '0'
      let pages = 0
      do {
        const reply = await commands.send(['HSCAN', claim.key, cursor, 'COUNT', String(SCAN_COUNT)])
        const [next, fields] = reply as [string, string[]]
        cursor = next
        for (let i = 0; i + 1 < fields.length; i += 2) {
          // HSCAN may return a field twice (while the hash is rehashed): kept once, by id.
          const subscriber = parseSubscriber(fields[i] as string, fields[i + 1] as string)
          if (subscriber === undefined) continue
          const payload = subscriber.claims?.payload
          const details = subscriber.claims?.subscribePayloads
          subscribers.set(
            subscriber.id,
            Object.freeze({
              id: subscriber.id,
              selectors: Object.freeze([...subscriber.selectors]),
              ...(payload === undefined ? {} : { payload }),
              ...(details === undefined ? {} : { subscribePayloads: Object.freeze([...details]) }),
            }),
          )
        }
      } while (cursor !== '0' && ++pages < maxPages)
      if (cursor !== '0') {
        this.#options.onError(
          new Error(
            `read ${subscribers.size} of the ${claim.count} subscribers of lost node ${claim.id}`,
          ),
        )
      }
      await commands.send(['UNLINK', claim.key])
    }
    return [...subscribers.values()]
  }

  #emit(node: { id: string; subscribers: LostSubscriber[] }): void {
    const lost: LostNode = Object.freeze({
      id: node.id,
      subscribers: Object.freeze(node.subscribers),
    })
    for (const { listener } of [...this.#listeners]) {
      try {
        listener(lost)
      } catch (error) {
        // A listener's failure must not keep the others from hearing of the loss.
        this.#options.onError(error)
      }
    }
  }
}

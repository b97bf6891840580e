import type { RedisCommands } from './redis-commands.ts'
import { defineScript } from './redis-scripts.ts'

// A node's liveness, apart from its subscribers. Each node of a Redis store keeps:
//
// - `<prefix>nodes`: the set of node ids (membership);
// - `<prefix>node:<id>`: its status hash (`subscribers`, `lagMs`, `seenAt`), written by every
//   heartbeat, `seenAt` in Redis's clock (TIME), so that nodes' clocks never need to agree;
// - `<prefix>subscriptions:<id>`: its subscribers (`redis-directory.ts`).
//
// A node is alive while Redis's clock is at most the TTL past its `seenAt`. Both of its keys live
// RETENTION_FACTOR TTLs after its last heartbeat: liveness is read from `seenAt`, not from a key
// expiring, so that when a node dies its subscribers outlive its liveness long enough for a
// survivor to notice and claim them (`redis-cluster.ts`).

/**
 * How many TTLs a node's status and subscribers outlive its last heartbeat. A node killed right
 * after a heartbeat at T is dead from T + TTL and claimed by a survivor's scan by T + TTL + TTL/3
 * (one heartbeat period): 2 TTLs leave two thirds of a TTL of slack for a slow survivor.
 */
export const RETENTION_FACTOR = 2

/** The status hash of node `id`. */
export function statusKey(prefix: string, id: string): string {
  return `${prefix}node:${id}`
}

/** The subscribers hash of node `id`. */
export function subscriptionsKey(prefix: string, id: string): string {
  return `${prefix}subscriptions:${id}`
}

/** The set of node ids. */
export function nodesKey(prefix: string): string {
  return `${prefix}nodes`
}

/**
 * One heartbeat, in one step. `KEYS`: the status hash, the subscribers hash, the nodes set, the
 * stream. `ARGV`: retention (ms), node id, subscriber count, the newest entry id this node
 * delivered (`''` for none).
 *
 * The lag is the age, in Redis's clock, of the oldest entry this node has yet to deliver: 0 when
 * caught up, however long the stream has been idle, and growing while a reader is stuck (a lag
 * measured as newest entry minus head would stand still then). It includes up to one round trip:
 * entries appended while the heartbeat was on its way count as not yet delivered.
 *
 * Returns `{ kept, previousAgeMs }`: whether the subscribers hash still existed (1 or 0), and how
 * long ago (ms) this node's previous heartbeat was, `-1` when Redis had no status for it (first
 * heartbeat, a Redis restart, or a survivor claimed it as lost).
 */
export const HEARTBEAT = defineScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local previous = tonumber(redis.call('HGET', KEYS[1], 'seenAt'))
local start = '-'
if ARGV[4] ~= '' then start = '(' .. ARGV[4] end
local pending = redis.call('XRANGE', KEYS[4], start, '+', 'COUNT', 1)
local lag = 0
if #pending > 0 then
  local ms = tonumber(string.match(pending[1][1], '^(%d+)-'))
  if ms and now > ms then lag = now - ms end
end
redis.call('HSET', KEYS[1], 'subscribers', ARGV[3], 'lagMs', string.format('%d', lag),
  'seenAt', string.format('%d', now))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
local kept = redis.call('PEXPIRE', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[2])
if previous then return { kept, now - previous } end
return { kept, -1 }
`)

/** A node's status as its last heartbeat wrote it, and whether that heartbeat is current. */
export interface NodeStatus {
  readonly subscribers: number
  /** `null` when the field is missing or not a number (not written by this version). */
  readonly lagMs: number | null
  /** In milliseconds since the epoch, Redis's clock. */
  readonly seenAt: number
  /** Whether Redis's clock is at most the TTL past `seenAt`. */
  readonly alive: boolean
}

/**
 * The status of each node in `ids` (`null` for a node without one: a node of an earlier version,
 * one whose keys expired, or a status evicted under `maxmemory`). Sends every command before its
 * first `await`, so that with the driver's pipelining they and any sent in the same tick share
 * one round trip.
 */
export async function readStatuses(
  commands: RedisCommands,
  prefix: string,
  ttlMs: number,
  ids: readonly string[],
): Promise<Map<string, NodeStatus | null>> {
  const [time, ...replies] = await Promise.all([
    commands.send(['TIME']),
    ...ids.map((id) => commands.send(['HMGET', statusKey(prefix, id), ...STATUS_FIELDS])),
  ])
  const [seconds, micros] = time as [string, string]
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000)
  const statuses = new Map<string, NodeStatus | null>()
  for (const [i, id] of ids.entries()) {
    const [subscribers, lagMs, seenAt] = replies[i] as [string | null, string | null, string | null]
    const seen = seenAt === null ? Number.NaN : Number(seenAt)
    if (!Number.isFinite(seen)) {
      statuses.set(id, null)
      continue
    }
    const lag = lagMs === null ? Number.NaN : Number(lagMs)
    statuses.set(id, {
      subscribers: Number(subscribers) || 0,
      lagMs: Number.isFinite(lag) ? lag : null,
      seenAt: seen,
      alive: now - seen <= ttlMs,
    })
  }
  return statuses
}

const STATUS_FIELDS = ['subscribers', 'lagMs', 'seenAt'] as const

// The Redis store's readiness probe: a write, not a PING. Redis answers PING in every state in
// which it refuses writes: a replica after a failover (READONLY), `maxmemory` reached with the
// `noeviction` policy (OOM), a failing RDB save with `stop-writes-on-bgsave-error` (MISCONF),
// too few replicas for `min-replicas-to-write` (NOREPLICAS). Publishes fail in each of them.

/** How long the probe key lives, in milliseconds: it never outlives the probes that refresh it. */
const READY_PROBE_TTL_MS = 10_000

/**
 * The command `ready()` sends: a `SET` with a short expiry on one small key beside the stream
 * (`<prefix>updates:ready-probe`), which every node of a hub overwrites.
 */
export function readyProbe(streamKey: string): string[] {
  return ['SET', `${streamKey}:ready-probe`, `${Date.now()}`, 'PX', `${READY_PROBE_TTL_MS}`]
}

/** Whether Redis took the probe's write. */
export function probeTaken(reply: unknown): boolean {
  return reply === 'OK'
}

// The Redis the two-node peers share: the one the tests use (REDIS_URL, else 127.0.0.1:6379),
// never flushed: each run's keys carry a prefix of their own and are deleted afterwards. The raw
// RESP commands are the tests' (test/helpers/redis.ts), so the bench needs no Redis driver.

import { deleteKeys, REDIS_URL, redisCommand } from '../../test/helpers/redis.ts'

export { deleteKeys, REDIS_URL }

/** A key prefix no other run uses. */
export function uniquePrefix(name: string): string {
  return `ssehub-bench:${name}:${process.pid}:${Date.now()}:`
}

/** Why the two-node peers cannot run here, or `null` when a Redis answers. */
export async function redisUnavailable(url = REDIS_URL): Promise<string | null> {
  try {
    const reply = await redisCommand(['PING'], url, 1000)
    return reply === 'PONG' ? null : `Redis at ${url} answered ${String(reply)}`
  } catch (error) {
    return `no Redis answers at ${url} (${(error as Error).message})`
  }
}

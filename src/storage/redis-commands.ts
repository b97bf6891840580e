import type { RedisScript } from './redis-scripts.ts'

/**
 * What the directory and the cluster view need from the store's Redis connection (`redis.ts`
 * provides it): commands sent in the same tick are pipelined by the driver, in order.
 */
export interface RedisCommands {
  /** Sends one command; rejects when Redis cannot answer. */
  send(args: readonly string[]): Promise<unknown>
  /** Runs a script (`EVALSHA`, falling back to `EVAL`). */
  run(source: RedisScript, keys: string[], args: string[]): Promise<unknown>
}

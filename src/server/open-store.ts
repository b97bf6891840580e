import type { EventStore } from '../hub/index.ts'
import { createMemoryStore } from '../storage/memory/index.ts'
import type { RedisStoreOptions } from '../storage/redis/index.ts'
import { createSqliteStore, MissingDriverError } from '../storage/sqlite/index.ts'
import { ConfigError, type StoreConfig } from './config.ts'

/** What a store reports while it runs (the Redis store: its connection), for the logs. */
export interface StoreHooks {
  /** A connection was lost, or a background write failed. Defaults to none. */
  onError?: (error: Error) => void
  /** A lost connection is back. Defaults to none. */
  onReconnect?: (connection: string) => void
}

/**
 * Opens the configured store with the configured retention. For Redis it connects first, and
 * rejects with a `store-unavailable` error when Redis does not answer.
 *
 * @throws {ConfigError} for a Redis URL it cannot use, or when the optional `redis` package is
 *   not installed.
 */
export async function openStore(
  config: StoreConfig,
  retention: { maxUpdates: number; maxAgeMs: number | null },
  hooks: StoreHooks = {},
): Promise<EventStore> {
  switch (config.kind) {
    case 'memory':
      return createMemoryStore(retention)
    case 'sqlite':
      return createSqliteStore({ path: config.path, ...retention })
    case 'redis': {
      const options = redisOptions(config.url)
      // Loaded only when asked for: `redis` is an optional peer dependency, which the store
      // loads when it creates its first client.
      const redis = await import('../storage/redis/index.ts')
      try {
        return await redis.createRedisStore({ ...options, ...retention, ...hooks })
      } catch (error) {
        if (error instanceof MissingDriverError) {
          throw new ConfigError(
            'SSEHUB_STORE=redis://… needs the optional "redis" package: run "npm install redis" next to ssehub.',
          )
        }
        throw error
      }
    }
  }
}

/**
 * The store options in a Redis URL: the driver's URL, and ssehub's own query parameter `prefix`
 * (the key prefix, `ssehub:` by default), removed before the driver sees the URL.
 */
export function redisOptions(url: string): Pick<RedisStoreOptions, 'url' | 'keyPrefix'> {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new ConfigError(
      'SSEHUB_STORE is not a valid Redis URL. Example: "redis://127.0.0.1:6379/0?prefix=myhub:".',
    )
  }
  const prefix = parsed.searchParams.get('prefix')
  if (prefix === '') {
    throw new ConfigError(
      'SSEHUB_STORE: the "prefix" parameter is empty; omit it (the default is "ssehub:") or give one, e.g. "?prefix=myhub:".',
    )
  }
  parsed.searchParams.delete('prefix')
  return prefix === null ? { url: parsed.href } : { url: parsed.href, keyPrefix: prefix }
}

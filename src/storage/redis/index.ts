/**
 * ssehub/storage/redis: the history in a Redis Stream shared by several hub nodes, with presence
 * (subscription events and the subscriptions API) across them. It needs the `redis` package:
 * when it is not installed, `createRedisStore` throws a `MissingDriverError` that says so.
 *
 * @module
 */
export { MissingDriverError } from '../load-driver.ts'
export { createRedisStore, RedisStore, type RedisStoreOptions } from '../redis.ts'
export type { RetentionOptions } from '../retention.ts'

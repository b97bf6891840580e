import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deleteKeys, REDIS_URL, redisCommand } from '../../test/helpers/redis.ts'
import { createHubNode, type HubNode } from './hub-node.ts'
import type { SoakOptions, StoreKind } from './options.ts'
import { LARGEST_PAYLOAD } from './payload.ts'

/** The hub processes of one store's run. */
export interface StoreHubs {
  /** One node, or two for Redis (sharing one key prefix). */
  readonly nodes: readonly HubNode[]
  /** Stops every node and removes what the run left behind (the SQLite file, the Redis keys). */
  cleanup(): Promise<void>
}

/** Why a store cannot run here (no Redis), or `null` when it can. */
export async function unavailable(store: StoreKind): Promise<string | null> {
  if (store !== 'redis') return null
  const { hostname, port } = new URL(REDIS_URL)
  let reason: string | null = null
  try {
    const reply = await redisCommand(['PING'], REDIS_URL, 1000)
    if (reply !== 'PONG') reason = `Redis at ${hostname}:${port} answered ${String(reply)}`
  } catch (error) {
    reason = `no Redis answers at ${hostname}:${port} (${(error as Error).message}; set REDIS_URL)`
  }
  const { REQUIRE_REDIS } = process.env
  if (reason !== null && REQUIRE_REDIS === '1') {
    throw new Error(`REQUIRE_REDIS=1 but ${reason}`)
  }
  return reason
}

/**
 * Starts the hubs for `store` with `secret` as their JWT key and anonymous subscribers allowed.
 * SQLite gets a file in a fresh temporary directory; Redis gets a key prefix no other run uses.
 */
export async function startStoreHubs(
  store: StoreKind,
  options: SoakOptions,
  secret: string,
): Promise<StoreHubs> {
  let storeSetting = 'memory'
  let dir: string | null = null
  let prefix: string | null = null
  if (store === 'sqlite') {
    dir = mkdtempSync(join(tmpdir(), 'ssehub-soak-'))
    storeSetting = `sqlite:${join(dir, 'soak.db')}`
  } else if (store === 'redis') {
    prefix = `ssehub-soak:${process.pid}:${Date.now()}:${randomBytes(3).toString('hex')}:`
    const url = new URL(REDIS_URL)
    url.searchParams.set('prefix', prefix)
    storeSetting = url.href
  }
  const env = {
    SSEHUB_JWT_KEY: secret,
    SSEHUB_ANONYMOUS: 'true',
    SSEHUB_LOG_FORMAT: 'json',
    SSEHUB_STORE: storeSetting,
    ...options.hubEnv,
  }
  const args = [
    '--history-size',
    String(options.historySize),
    // The default (1 MiB) already takes the largest payload; stated so a lower default would not
    // turn the soak's 256 KiB updates into 413s.
    '--max-body',
    String(Math.max(1_048_576, 2 * LARGEST_PAYLOAD)),
    ...options.hubArgs,
  ]
  const names = store === 'redis' ? ['redis-a', 'redis-b'] : [store]
  const cli = options.hubCli ?? undefined
  const nodes = await Promise.all(names.map((name) => createHubNode({ name, env, args, cli })))
  const cleanup = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((node) => node.stop('SIGTERM')))
    if (dir !== null) rmSync(dir, { recursive: true, force: true })
    if (prefix !== null) await deleteKeys(prefix).catch(() => {})
  }
  try {
    await Promise.all(nodes.map((node) => node.start()))
  } catch (error) {
    await cleanup()
    throw error
  }
  return { nodes, cleanup }
}

// Two nodes: 1,000 subscribers on one node, the publisher on another, the nodes sharing one
// Redis; 100-byte updates paced at 100/s for 10 s (the latency scenario's load, across nodes).
//
//   node --import tsx bench/two-nodes.bench.ts [--set seconds=5]
//
// Peers: ssehub with its Redis store (two hub processes, SSEHUB_STORE=redis://…?prefix=<unique>)
// and Nchan with Redis (two nginx instances, nchan_use_redis, a unique nchan_redis_namespace),
// both on the Redis at REDIS_URL (default redis://127.0.0.1:6379), never flushed: the run's
// keys are deleted afterwards. Measures publish-to-receive latency across the nodes (p50, p99,
// p99.9) and the CPU per delivery of both nodes together (Redis's own CPU is not counted).
// Skipped, with the reason, when ssehub has no Redis store, the optional `redis` package is not
// installed, or no Redis answers. Writes bench/results/two-nodes.{json,svg}.

import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { LatencyParams } from './latency.bench.ts'
import { latency } from './latency.bench.ts'
import { isMain, runScenarioCli } from './load/scenario.ts'
import type { Scenario } from './load/scenario-types.ts'
import { REDIS_URL, redisUnavailable } from './peers/redis.ts'

const REDIS_STORE = fileURLToPath(new URL('../src/storage/redis.ts', import.meta.url))

export const twoNodes: Scenario<LatencyParams> = {
  ...latency,
  id: 'two-nodes',
  title: 'Two nodes: publish on one, 1,000 subscribers on the other, 100 updates/s',
  description:
    'Two nodes sharing one Redis: 1,000 subscribers on one, 100-byte updates paced at 100/s for 10 s published to the other.',
  peers: ['ssehub-redis', 'nchan-redis'],
}

/** Why the two-node scenario cannot run here, or `null` when it can. */
export async function twoNodesUnavailable(): Promise<string | null> {
  if (!existsSync(REDIS_STORE)) return 'ssehub has no Redis store (src/storage/redis.ts is missing)'
  try {
    createRequire(import.meta.url).resolve('redis')
  } catch {
    return 'the optional "redis" package is not installed (npm install redis)'
  }
  const down = await redisUnavailable()
  return down === null ? null : `${down}; start one or set REDIS_URL (now ${REDIS_URL})`
}

if (isMain(import.meta.url)) {
  const reason = await twoNodesUnavailable()
  if (reason === null) await runScenarioCli(twoNodes)
  else console.log(`Two nodes skipped: ${reason}.`)
}

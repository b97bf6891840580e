// History lookup by depth: how long `find(id)` (what a resume with Last-Event-ID costs before the
// first byte) takes for the newest update and for one 1,000,000 updates deep, on each store.
//
//   node --import tsx bench/find-depth.bench.ts [updates, default 1000000] [stores, default memory,sqlite,redis]
//
// Fills a fresh store with `updates` small updates (SQLite with `synchronous: 'normal'` to fill
// faster; lookups do not depend on it), then times 2,000 lookups of the newest ids and 2,000 of
// the oldest ones, alternating, and prints the mean and p99 of each. An indexed lookup costs the
// same at any depth; a scan would grow with it. Redis: a server must answer on 127.0.0.1:6379
// (REDIS_URL); its keys are deleted afterwards.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { EventStore } from '../src/hub/event-store.ts'
import type { Update } from '../src/hub/update.ts'
import { createMemoryStore } from '../src/storage/memory.ts'
import { createRedisStore } from '../src/storage/redis.ts'
import { createSqliteStore } from '../src/storage/sqlite.ts'
import { deleteKeys, uniquePrefix } from '../test/helpers/redis.ts'

const UPDATES = Number(process.argv[2] ?? 1_000_000)
const STORES = (process.argv[3] ?? 'memory,sqlite,redis').split(',')
const LOOKUPS = 2000
const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'

const idOf = (n: number): string => `urn:bench:find:${n}`

function update(n: number): Update {
  return {
    id: idOf(n),
    topics: [`https://example.com/t/${n % 100}`],
    data: `{"n":${n}}`,
    private: false,
  }
}

async function fill(store: EventStore): Promise<void> {
  const started = performance.now()
  for (let n = 0; n < UPDATES; n += 1000) {
    const batch: Array<Promise<unknown>> = []
    for (let i = n; i < Math.min(UPDATES, n + 1000); i++) batch.push(store.append(update(i)))
    await Promise.all(batch)
  }
  process.stderr.write(
    `  filled ${UPDATES} in ${((performance.now() - started) / 1000).toFixed(1)} s\n`,
  )
}

async function time(
  store: EventStore,
  ids: readonly string[],
): Promise<{ mean: number; p99: number }> {
  const times: number[] = []
  for (const id of ids) {
    const started = performance.now()
    const cursor = await store.find(id)
    times.push(performance.now() - started)
    if (cursor === null) throw new Error(`${id} not found`)
  }
  times.sort((a, b) => a - b)
  const mean = times.reduce((a, b) => a + b, 0) / times.length
  return { mean: mean * 1000, p99: (times[Math.floor(times.length * 0.99)] ?? 0) * 1000 }
}

async function measure(kind: string, store: EventStore): Promise<void> {
  await fill(store)
  const newest = Array.from({ length: LOOKUPS }, (_, i) => idOf(UPDATES - 1 - (i % 100)))
  const deepest = Array.from({ length: LOOKUPS }, (_, i) => idOf(i % 100))
  // Warm both paths, then measure them interleaved in halves, so drift hits both alike.
  await time(store, newest.slice(0, 200))
  await time(store, deepest.slice(0, 200))
  const recent = await time(store, newest)
  const deep = await time(store, deepest)
  const row = (label: string, r: { mean: number; p99: number }): string =>
    `| ${kind} | ${label} | ${r.mean.toFixed(1)} | ${r.p99.toFixed(1)} |`
  console.log(row('newest', recent))
  console.log(row(`${UPDATES.toLocaleString('en')} deep`, deep))
}

console.log(`| store | id | mean µs | p99 µs |\n| --- | --- | --- | --- |`)
for (const kind of STORES) {
  process.stderr.write(`${kind}\n`)
  if (kind === 'memory') {
    await measure(kind, createMemoryStore({ maxUpdates: UPDATES }))
  } else if (kind === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'ssehub-find-'))
    const store = createSqliteStore({
      path: join(dir, 'hub.db'),
      synchronous: 'normal',
      maxUpdates: UPDATES,
    })
    try {
      await measure(kind, store)
    } finally {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    }
  } else if (kind === 'redis') {
    const prefix = uniquePrefix('find-bench')
    const store = await createRedisStore({ url: REDIS_URL, keyPrefix: prefix, maxUpdates: UPDATES })
    try {
      await measure(kind, store)
    } finally {
      await store.close()
      await deleteKeys(prefix, REDIS_URL, 120_000)
    }
  }
}

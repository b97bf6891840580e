// Durable publish benchmark: acknowledged updates per second through SqliteStore.
//
//   node --import tsx bench/durable-publish.bench.ts [seconds per run, default 5] [publishers, default 64]
//     [--driver auto|node:sqlite|better-sqlite3, default auto] [--ids publisher|generated]
//
// Measures what a publisher sees: 64 concurrent "publishers" each append an update, await its
// acknowledgement (the transaction is committed), and immediately append the next, for ~5 s, with
// one no-op commit listener attached as the hub would. Run once with `synchronous: 'full'` (an
// fsync per commit: survives power loss) and once with `'normal'` (survives a process crash). Each
// run starts on a fresh file in a temporary directory (removed afterwards) with the default
// retention (100000 updates), so deletion is part of the steady state once the table fills.
// Prints acknowledged updates/s, commits/s, the mean group-commit size, the process's CPU time
// (user + system) per update, its write calls per commit and bytes written per update (WAL
// frames, checkpoints; from /proc/self/io, on Linux), and append latency percentiles. `--driver` picks the SQLite
// driver (docs/benchmarks.md, "SQLite drivers", has both measured). `--ids` picks the updates'
// ids: `publisher` (the default) numbers them per publisher, so each commit's ids land in as many
// places of the id index as there are publishers, as a publisher's own ids do; `generated` makes
// them as the hub does for a publish without one (UUIDv7, in time order, marked GENERATED_ID, so
// the store skips their look-up), so each commit adds to one end of the index.
// The hub's goal: >= 20000 acknowledged updates/s at 64 publishers with 'full'.

import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { GENERATED_ID, type Update } from '../src/hub/update.ts'
import { uuidV7 } from '../src/hub/uuid-v7.ts'
import { createSqliteStore } from '../src/storage/sqlite.ts'
import type { SqliteDriverChoice } from '../src/storage/sqlite-connection.ts'

const { values, positionals } = parseArgs({
  options: {
    driver: { type: 'string', default: 'auto' },
    ids: { type: 'string', default: 'publisher' },
  },
  allowPositionals: true,
})
const SECONDS = Number(positionals[0] ?? 5)
const PUBLISHERS = Number(positionals[1] ?? 64)
const DRIVER = values.driver as SqliteDriverChoice
if (values.ids !== 'publisher' && values.ids !== 'generated') {
  throw new Error(`--ids must be publisher or generated, got ${values.ids}`)
}
const GENERATED_IDS = values.ids === 'generated'
const WARMUP_MS = 500

function makeUpdate(publisher: number, n: number): Update {
  const update: Update = {
    id: GENERATED_IDS
      ? `urn:uuid:${uuidV7()}`
      : `urn:uuid:0190b8a0-${publisher.toString(16).padStart(4, '0')}-7000-8000-${n.toString(16).padStart(12, '0')}`,
    topics: [`https://example.com/rooms/${publisher % 8}`],
    data: JSON.stringify({
      publisher,
      n,
      text: 'a chat message of about a hundred bytes, give or take',
    }),
    private: n % 4 === 0,
    type: 'message',
  }
  // Marked as the hub marks the ids it makes, which the store then does not look up.
  if (GENERATED_IDS) (update as { [GENERATED_ID]?: true })[GENERATED_ID] = true
  return update
}

/**
 * This process's write calls and bytes written so far (`/proc/self/io`: `syscw`, `wchar`), or
 * `null` where there is no such file (not Linux).
 */
async function writes(): Promise<{ calls: number; bytes: number } | null> {
  try {
    const text = await readFile('/proc/self/io', 'utf8')
    const field = (name: string) => Number(new RegExp(`^${name}: (\\d+)$`, 'm').exec(text)?.[1])
    return { calls: field('syscw'), bytes: field('wchar') }
  } catch {
    return null
  }
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN
}

async function run(synchronous: 'full' | 'normal'): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ssehub-bench-'))
  const path = join(dir, 'hub.db')
  const store = createSqliteStore({ path, synchronous, driver: DRIVER })
  let commits = 0
  store.onCommit(() => {
    commits++
  })
  let measuring = false
  let acknowledged = 0
  const latencies: number[] = []
  let stop = false

  async function publisher(index: number): Promise<void> {
    for (let n = 0; !stop; n++) {
      const start = performance.now()
      await store.append(makeUpdate(index, n))
      if (measuring) {
        acknowledged++
        latencies.push(performance.now() - start)
      }
    }
  }

  const publishers = Array.from({ length: PUBLISHERS }, (_, i) => publisher(i))
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS))
  const commitsBefore = commits
  measuring = true
  const started = performance.now()
  const writesBefore = await writes()
  const cpuBefore = process.cpuUsage()
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000))
  measuring = false
  const cpu = process.cpuUsage(cpuBefore)
  const writesAfter = await writes()
  const elapsed = (performance.now() - started) / 1000
  const measuredCommits = commits - commitsBefore
  stop = true
  await Promise.all(publishers)
  await store.close()
  const bytes = (await stat(path)).size
  await rm(dir, { recursive: true, force: true })

  const sorted = Float64Array.from(latencies).sort()
  console.log(
    [
      `synchronous=${synchronous.padEnd(6)}`,
      `${Math.round(acknowledged / elapsed).toLocaleString('en-US')} acknowledged updates/s`,
      `${Math.round(measuredCommits / elapsed).toLocaleString('en-US')} commits/s`,
      `${(acknowledged / measuredCommits).toFixed(1)} per commit`,
      `CPU ${((cpu.user + cpu.system) / acknowledged).toFixed(1)} µs/update`,
      ...(writesBefore === null || writesAfter === null
        ? []
        : [
            `${((writesAfter.calls - writesBefore.calls) / measuredCommits).toFixed(1)} write calls/commit`,
            `${((writesAfter.bytes - writesBefore.bytes) / acknowledged / 1024).toFixed(2)} KiB written/update`,
          ]),
      `latency p50 ${percentile(sorted, 0.5).toFixed(2)} ms`,
      `p99 ${percentile(sorted, 0.99).toFixed(2)} ms`,
      `max ${percentile(sorted, 1).toFixed(1)} ms`,
      `file ${(bytes / 1e6).toFixed(1)} MB`,
    ].join(', '),
  )
}

const probe = createSqliteStore({ path: ':memory:', driver: DRIVER })
const { driver } = probe
await probe.close()
console.log(
  `${PUBLISHERS} publishers, ${SECONDS} s per run, ${values.ids} ids, Node ${process.version}, ${driver}`,
)
await run('full')
await run('normal')

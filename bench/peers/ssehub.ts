// The ssehub peer: the hub's CLI in its own process, as a user runs it, with SQLite (durable,
// the default) or memory storage, anonymous subscribers, no lifetime limit and warn-level logs.
// It runs the built `dist/server/cli.js` when present (what users run; `npm run bench` builds
// first), else `src/server/cli.ts` through tsx. SSEHUB_BENCH_ENTRY=src|dist forces one,
// SSEHUB_BENCH_ROOT points at another checkout (to compare an experiment), and
// SSEHUB_BENCH_NODE_ARGS adds Node flags (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`), and
// SSEHUB_BENCH_OPERATORS=1 runs it with the dashboard open and presence webhooks on
// (`operators.ts`).

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mintToken } from '../../src/hub/mint-token.ts'
import { operatorsWanted, startOperators } from './operators.ts'
import {
  freePort,
  httpGet,
  type PeerOptions,
  type RunningPeer,
  stopPid,
  waitForHttp,
} from './peer.ts'

const HOST = '127.0.0.1'
const SECRET = 'ssehub-bench-secret-0123456789-abcdefghijkl'
const TOPIC_BASE = 'https://example.com/t/'
const HERE = fileURLToPath(new URL('../../', import.meta.url))

/** Which code the peer runs: `dist` (built JavaScript) or `src` (TypeScript through tsx). */
export type SsehubEntry = 'dist' | 'src'

/** Options of {@link startSsehub}. */
export interface SsehubPeerOptions extends PeerOptions {
  /** SQLite in a fresh temporary file, memory, or a Redis URL (`redis://…?prefix=…`). */
  store: 'sqlite' | 'memory' | { redis: string }
  /** Defaults to SSEHUB_BENCH_ENTRY, else `dist` when built, else `src`. */
  entry?: SsehubEntry
}

/** Starts ssehub on a free loopback port and resolves once it answers `/healthz`. */
export async function startSsehub(options: SsehubPeerOptions): Promise<RunningPeer> {
  const { SSEHUB_BENCH_ROOT, SSEHUB_BENCH_ENTRY, SSEHUB_BENCH_NODE_ARGS } = process.env
  const root = resolve(SSEHUB_BENCH_ROOT ?? HERE)
  const dist = join(root, 'dist/server/cli.js')
  const wanted = options.entry ?? (SSEHUB_BENCH_ENTRY as SsehubEntry | undefined)
  const entry: SsehubEntry = wanted ?? (existsSync(dist) ? 'dist' : 'src')
  if (entry === 'dist') warnIfStale(root, dist)
  const port = await freePort()
  const { store } = options
  const dir = store === 'sqlite' ? mkdtempSync(join(tmpdir(), 'ssehub-bench-')) : null
  const extra = (SSEHUB_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '')
  const operators = operatorsWanted() ? await startOperators(HOST) : null
  const args =
    entry === 'dist'
      ? [...extra, dist]
      : [...extra, '--import', 'tsx', join(root, 'src/server/cli.ts')]
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: root,
    env: {
      ...process.env,
      PORT: String(port),
      HOST,
      SSEHUB_STORE:
        typeof store === 'object'
          ? store.redis
          : dir !== null
            ? `sqlite:${join(dir, 'hub.db')}`
            : 'memory',
      SSEHUB_JWT_KEY: SECRET,
      SSEHUB_ANONYMOUS: 'true',
      SSEHUB_MAX_LIFETIME: 'off',
      // The load generator is one address standing in for thousands of clients (10,000 idle);
      // a scenario about the cap sets it.
      SSEHUB_MAX_PER_ADDRESS: process.env['SSEHUB_MAX_PER_ADDRESS'] ?? 'off',
      SSEHUB_LOG_LEVEL: 'warn',
      SSEHUB_LOG_FORMAT: 'json',
      SSEHUB_HISTORY_SIZE: String(Math.max(100_000, options.history ?? 0)),
      ...operators?.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  // Keep the tail of its output, shown if it fails; overflow warnings are counted.
  let tail = ''
  let overflows = 0
  const keep = (chunk: Buffer): void => {
    const text = chunk.toString('utf8')
    overflows += text.split('stopped reading').length - 1
    tail = (tail + text).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const pid = child.pid as number
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  try {
    await waitForHttp(HOST, port, '/healthz')
    await operators?.watch(HOST, port)
  } catch (error) {
    child.kill('SIGKILL')
    await operators?.stop()
    throw new Error(`ssehub did not start: ${error}\n${tail}`)
  }
  const token = await mintToken({ key: SECRET, publish: ['*'], expiresIn: '24h' })

  return {
    name:
      store === 'sqlite' ? 'ssehub-sqlite' : store === 'memory' ? 'ssehub-memory' : 'ssehub-redis',
    host: HOST,
    port,
    publishPort: port,
    pids: () => (exited ? [] : [pid]),
    subscribePath: (topic) =>
      `/.well-known/mercure?topic=${encodeURIComponent(TOPIC_BASE + topic)}`,
    wildcardPath: () => '/.well-known/mercure?topic=*',
    publishTemplate: () => ({
      path: '/.well-known/mercure',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Authorization: `Bearer ${token}`,
      },
      body: `topic=${encodeURIComponent(TOPIC_BASE)}{topic}&data={payload}`,
    }),
    resumeHeaders: (id) => ({ 'Last-Event-ID': id }),
    publishedId: (body) => body.trim(),
    async heapUsedBytes() {
      const { body } = await httpGet(HOST, port, '/metrics')
      const match = /^ssehub_nodejs_heap_size_used_bytes (\d+(?:\.\d+)?(?:e\+?\d+)?)/m.exec(body)
      return match ? Number(match[1]) : null
    },
    ...(operators === null ? {} : { settle: () => operators.settle() }),
    async stop() {
      if (overflows > 0) console.log(`    (ssehub logged ${overflows} overflow disconnections)`)
      await stopPid(pid, 'SIGTERM', () => exited, 8000)
      if (operators !== null) {
        const { webhooks, dashboardEvents } = operators.counts()
        console.log(
          `    (operators: ${webhooks} webhooks received, ${dashboardEvents} dashboard events)`,
        )
        await operators.stop()
      }
      if (dir !== null) rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Says so when `src/` changed after the build: the bench would measure old code. */
function warnIfStale(root: string, dist: string): void {
  const built = statSync(dist).mtimeMs
  const newest = (dir: string): number => {
    let latest = 0
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) latest = Math.max(latest, newest(path))
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts'))
        latest = Math.max(latest, statSync(path).mtimeMs)
    }
    return latest
  }
  if (newest(join(root, 'src')) > built) {
    console.log(
      '    (note: src/ is newer than dist/; run `npm run build` to bench the current code)',
    )
  }
}

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { StoreResult } from '../bench/soak/verdict.ts'
import { redisSkipReason } from './helpers/redis.ts'
import { assertWellFormedSvg } from './helpers/svg-well-formed.ts'

// `npm run soak` loads a hub for minutes; this runs it for a few seconds per store with small
// counts (one restart, one reconnect storm, token lifetimes of 3 s), so the harness cannot rot
// and the hub's delivery guarantees are checked end to end on every `npm test`.

const RUN = new URL('../bench/soak/run.ts', import.meta.url).pathname
const dir = mkdtempSync(join(tmpdir(), 'ssehub-soak-smoke-'))
after(() => rmSync(dir, { recursive: true, force: true }))

interface SoakRun {
  /** The JSON's path: the charts are beside it. */
  readonly json: string
  readonly code: number
  readonly report: string
  readonly progress: string
  readonly results: StoreResult[]
}

/** Runs the harness as a child process with `args` and reads back its JSON figures. */
function soak(name: string, args: readonly string[]): Promise<SoakRun> {
  const json = join(dir, `${name}.json`)
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', RUN, '--seed', '10', '--json', json, ...args],
      // SIGTERM, not SIGKILL: the harness then stops the hubs it started.
      { timeout: 240_000, killSignal: 'SIGTERM', maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1
        try {
          const { results } = JSON.parse(readFileSync(json, 'utf8')) as { results: StoreResult[] }
          resolve({ json, code, report: stdout, progress: stderr, results })
        } catch {
          reject(new Error(`the soak wrote no figures (exit ${code}):\n${stdout}\n${stderr}`))
        }
      },
    )
  })
}

/** Asserts that the run passed, with the report as the message otherwise. */
function assertPassed(run: SoakRun, stores: readonly string[]): void {
  assert.equal(run.code, 0, `the soak failed:\n${run.report}\n${run.progress.slice(-4000)}`)
  assert.deepEqual(
    run.results.map((result) => [result.store, result.status]),
    stores.map((store) => [store, 'pass']),
  )
  for (const result of run.results) {
    assert.ok(result.publishes > 100, `${result.store}: ${result.publishes} publishes`)
    assert.ok(
      result.deliveries > result.publishes,
      `${result.store}: ${result.deliveries} deliveries`,
    )
    assert.equal(result.lost + result.duplicated + result.outOfOrder + result.notCaughtUp, 0)
    if (result.store !== 'memory') assert.equal(result.restarts.length, 1, result.store)
  }
}

/**
 * Asserts that stderr, a pipe here, got plain progress lines (no escape codes, no carriage
 * returns) at a bounded rate, and that an SVG chart per store that ran is beside the JSON.
 */
function assertProgressAndCharts(run: SoakRun): void {
  assert.ok(!run.progress.includes('\x1b'), 'no escape codes on a pipe')
  assert.ok(!run.progress.includes('\r'), 'no carriage returns on a pipe')
  assert.ok(!run.report.includes('\x1b'), 'no escape codes in the report')
  for (const result of run.results) {
    const lines = run.progress
      .split('\n')
      .filter((line) => line.startsWith(`[soak ${result.store}]`))
    assert.equal(lines[0], `[soak ${result.store}] started`)
    assert.match(lines.at(-1) as string, /\] done in \d+\.\d s; \d+ acknowledged, \d+ deliveries$/)
    // A few seconds of load: a line per phase, per tenth (at most one a second) and per 10 s,
    // not one per update of the bar (twice a second) nor per event.
    assert.ok(lines.length <= 20, `${lines.length} progress lines for ${result.store}`)
    if (result.status === 'skip') continue
    const chart = join(
      dir,
      `${run.json.slice(dir.length + 1, -'.json'.length)}-${result.store}.svg`,
    )
    assert.ok(existsSync(chart), `${chart} written`)
    const svg = readFileSync(chart, 'utf8')
    assertWellFormedSvg(svg)
    assert.match(svg, new RegExp(`Soak, ${result.store} store: ${result.status}`))
    for (const panel of ['Publishes acknowledged', 'Deliveries', 'latency', 'Hub RSS']) {
      assert.match(svg, new RegExp(panel))
    }
    assert.ok(
      result.timeline.at.length >= 2,
      `${result.store}: ${result.timeline.at.length} samples`,
    )
    assert.match(svg, /<path d="M[\d.]+ [\d.]+ L/, 'a line is drawn')
  }
}

describe('npm run soak, for a few seconds per store', () => {
  it('passes on the memory store and on SQLite across a SIGKILL: nothing lost, duplicated or out of order', async () => {
    const run = await soak('local', ['--seconds', '4', '--stores', 'memory,sqlite'])
    assertPassed(run, ['memory', 'sqlite'])
    assertProgressAndCharts(run)
  })

  it('passes on two Redis-backed nodes sharing one key prefix, across a SIGKILL of one', async (t) => {
    const reason = await redisSkipReason()
    if (reason !== null) {
      t.skip(reason)
      return
    }
    const run = await soak('redis', ['--seconds', '4', '--stores', 'redis'])
    assertPassed(run, ['redis'])
    assertProgressAndCharts(run)
  })

  it('fails, naming the client, topic and id, when its checker drops one delivered event', async () => {
    const run = await soak('inject', [
      '--seconds',
      '3',
      '--stores',
      'memory',
      '--inject',
      'drop',
      '--drain',
      '3',
    ])
    assert.equal(run.code, 1, run.report)
    const [memory] = run.results
    assert.equal(memory?.status, 'fail')
    assert.equal(memory?.lost, 1)
    assert.match(
      run.report,
      /\*\*failure\*\*: fast-0 \(fast, topics [^)]+\) lost 1 of \d+: \S+\/\S+\/\d+ \(t\d+, \+/,
    )
  })
})

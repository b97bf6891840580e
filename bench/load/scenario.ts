// Runs one scenario against each peer in turn with the same load generator, then prints the
// table and writes bench/results/<scenario>.json and .svg. Every peer run is bounded in time;
// a peer that fails or overruns is reported as such and the run goes on with the next one.

import { startNchan } from '../peers/nchan.ts'
import {
  ALL_PEERS,
  PEER_NAMES,
  type PeerName,
  type PeerOptions,
  pairOf,
  type RunningPeer,
} from '../peers/peer.ts'
import { startRawNode } from '../peers/raw-node.ts'
import { deleteKeys, REDIS_URL, uniquePrefix } from '../peers/redis.ts'
import { type SsehubEntry, startSsehub } from '../peers/ssehub.ts'
import { LoadGenerator } from './generator.ts'
import { createProgress, type Progress, type ProgressStep } from './progress.ts'
import { machineInfo, printTable, RESULTS_DIR, writeResults } from './report.ts'
import type { Scenario, ScenarioRun } from './scenario-types.ts'

/** Options of {@link runScenario}. */
export interface RunOptions<P> {
  peers?: readonly PeerName[]
  params?: Partial<P>
  /** Write bench/results/ files. Defaults to `true`. */
  write?: boolean
  /** Print the table. Defaults to `true`. */
  print?: boolean
  /** Where the JSON and SVG go. Defaults to bench/results/. */
  resultsDir?: string
  /**
   * Shows a bar per peer (stderr) and prints the scenario's lines above it (stdout). Defaults
   * to one of its own, drawing nothing when `print` is `false`.
   */
  progress?: Progress
  /** Which ssehub code to run (see peers/ssehub.ts). */
  ssehubEntry?: SsehubEntry
  /** Subscriber worker processes. Defaults to `2`. */
  workers?: number
}

/** Starts a peer by name (a `-redis` peer is two nodes sharing the Redis at REDIS_URL). */
export async function startPeer(
  name: PeerName,
  options: PeerOptions,
  entry?: SsehubEntry,
): Promise<RunningPeer> {
  const code = entry ? { entry } : {}
  switch (name) {
    case 'ssehub-sqlite':
      return startSsehub({ ...options, store: 'sqlite', ...code })
    case 'ssehub-memory':
      return startSsehub({ ...options, store: 'memory', ...code })
    case 'raw-node':
      return startRawNode(options)
    case 'nchan':
      return startNchan(options)
    case 'ssehub-redis': {
      const prefix = uniquePrefix('ssehub')
      const url = new URL(REDIS_URL)
      url.searchParams.set('prefix', prefix)
      const store = { redis: url.href }
      const [a, b] = await Promise.all([
        startSsehub({ ...options, store, ...code }),
        startSsehub({ ...options, store, ...code }),
      ])
      return pairOf(name, a, b, () => deleteKeys(prefix))
    }
    case 'nchan-redis': {
      const redis = { url: REDIS_URL, namespace: uniquePrefix('nchan') }
      const a = await startNchan({ ...options, redis })
      const b = await startNchan({ ...options, redis }).catch(async (error: unknown) => {
        await a.stop()
        throw error
      })
      return pairOf(name, a, b, () => deleteKeys(redis.namespace))
    }
  }
}

/** Runs `scenario` against each peer, one after the other, with one load generator. */
export async function runScenario<P extends object>(
  scenario: Scenario<P>,
  options: RunOptions<P> = {},
): Promise<ScenarioRun<P>> {
  const params = { ...scenario.defaults, ...options.params } as P
  const peers = options.peers ?? scenario.peers ?? ALL_PEERS
  const print = options.print ?? true
  const progress = options.progress ?? createProgress({ quiet: !print })
  const say = (text: string): void => {
    if (print) progress.log(text)
  }
  const started = Date.now()
  const loadAverage = machineInfo().loadAverage
  say(`\n## ${scenario.title}  (${JSON.stringify(params)})`)
  say(`   load average before: ${loadAverage.map((l) => l.toFixed(2)).join(' ')}`)
  const results: ScenarioRun<P>['results'] = {}
  const gen = LoadGenerator.start({ subscriberWorkers: options.workers ?? 2 })
  try {
    for (const [index, name] of peers.entries()) {
      say(`  ${name}`)
      let peer: RunningPeer | null = null
      let step: ProgressStep | null = null
      try {
        peer = await startPeer(name, scenario.peerOptions?.(params) ?? {}, options.ssehubEntry)
        // Begun once the peer runs, as starting one may print. Fed from the generator's waits (4
        // times a second), in this process: the load runs in the worker processes, and the
        // server under test in its own.
        const bar = progress.begin(`${scenario.id} · ${name} (${index + 1}/${peers.length})`)
        step = bar
        gen.reportTo((label, done, total, detail) =>
          bar.update(done, { phase: label, total, detail }),
        )
        const running = peer
        const budget = scenario.timeoutMs(params)
        let timer: NodeJS.Timeout | undefined
        const overrun = new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`overran its ${budget} ms budget`)), budget)
        })
        try {
          results[name] = await Promise.race([
            scenario.run({
              peer: running,
              gen,
              params,
              log: (text) => say(`    ${text}`),
            }),
            overrun,
          ])
        } finally {
          clearTimeout(timer)
        }
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        say(`    FAILED: ${message}`)
        results[name] = { error: message }
      } finally {
        await gen.closeSubscribers().catch(() => {})
        await peer?.stop().catch((error: unknown) => say(`    stop failed: ${error}`))
        gen.reportTo(null)
        const result = results[name]
        step?.end(
          result === undefined || 'error' in result
            ? 'failed'
            : `${result.lost} lost, ${result.duplicates} duplicates`,
        )
      }
    }
  } finally {
    await gen.stop()
    if (options.progress === undefined) progress.close()
  }
  const run: ScenarioRun<P> = {
    scenario,
    params,
    results,
    startedAt: new Date(started).toISOString(),
    seconds: (Date.now() - started) / 1000,
    loadAverage,
  }
  if (print) printTable(run)
  if (options.write ?? true) writeResults(run, options.resultsDir ?? RESULTS_DIR)
  return run
}

/**
 * The command line of a bench file: `--peers a,b` picks peers, `--set key=value` overrides a
 * parameter (numbers only), `--no-write` keeps bench/results/ untouched, `--out <dir>` writes
 * the JSON and SVG there instead, `--quiet` draws no progress.
 */
export async function runScenarioCli<P extends object>(scenario: Scenario<P>): Promise<void> {
  const args = process.argv.slice(2)
  const options: RunOptions<P> = { params: {} }
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '--peers') {
      options.peers = (args[++i] ?? '').split(',').filter((p) => p !== '') as PeerName[]
      for (const peer of options.peers) {
        if (!PEER_NAMES.includes(peer))
          throw new Error(`unknown peer ${peer}: use ${PEER_NAMES.join(', ')}`)
      }
    } else if (arg === '--set') {
      const [key, value] = (args[++i] ?? '').split('=')
      if (key === undefined || value === undefined || !(key in scenario.defaults)) {
        throw new Error(
          `--set needs key=value with key one of ${Object.keys(scenario.defaults).join(', ')}`,
        )
      }
      ;(options.params as Record<string, number>)[key] = Number(value)
    } else if (arg === '--no-write') {
      options.write = false
    } else if (arg === '--out') {
      const dir = args[++i]
      if (dir === undefined || dir === '') throw new Error('--out needs a directory')
      options.resultsDir = dir
    } else if (arg === '--quiet') {
      options.progress = createProgress({ quiet: true })
    } else {
      throw new Error(`unknown argument ${arg}`)
    }
  }
  await runScenario(scenario, options)
}

/** Whether the module at `url` is the process's entry point (a bench file run directly). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && new URL(url).pathname === process.argv[1]
}

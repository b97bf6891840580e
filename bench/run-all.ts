// Every scenario against every peer, one after the other: what `npm run bench` runs (after
// `npm run build`, so ssehub is measured as users run it).
//
//   npm run bench                                   (= npm run build && node --import tsx bench/run-all.ts)
//   node --import tsx bench/run-all.ts [--peers ssehub-memory,nchan] [--no-docs] [--quiet]
//                                     [--out <dir>]
//
// --out writes the JSON and SVG files to <dir> instead of bench/results/, and implies --no-docs
// (the results section links the charts in bench/results/).
//
// While it runs, stderr shows a bar for the running scenario × peer (redrawn in place on a
// terminal; plain lines every 10 % or 10 s otherwise; none with --quiet); stdout has the tables.
//
// Installs Nchan first when missing (apt-get), then runs idle, fan-out (100-byte, 4 KiB and 32 KiB
// updates), latency, many topics, catch-up, durable publish over HTTP, token streaming and two
// nodes (ssehub and Nchan on Redis; skipped with the reason when that cannot run here), each
// writing bench/results/<id>.json and .svg, and finally rewrites the results section of
// docs/benchmarks.md (between its `bench:results` markers) with the tables of this run. The whole
// run is budgeted to 14 minutes: a scenario that would start past the budget is skipped and says
// so. Takes about 5 minutes (2.5 before token streaming and the large fan-outs).

import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { catchUp } from './catch-up.bench.ts'
import { durableHttp } from './durable-http.bench.ts'
import { fanOut } from './fan-out.bench.ts'
import { fanOut4k, fanOut32k } from './fan-out-payloads.bench.ts'
import { idle } from './idle.bench.ts'
import { latency } from './latency.bench.ts'
import { createProgress } from './load/progress.ts'
import { machineInfo, markdownTable } from './load/report.ts'
import { runScenario } from './load/scenario.ts'
import type { Scenario, ScenarioRun } from './load/scenario-types.ts'
import { manyTopics } from './many-topics.bench.ts'
import { ensureNchanInstalled } from './peers/nchan.ts'
import { ALL_PEERS, type PeerName } from './peers/peer.ts'
import { tokenStreaming } from './token-streaming.bench.ts'
import { twoNodes, twoNodesUnavailable } from './two-nodes.bench.ts'

const BUDGET_MS = 14 * 60_000
const DOC = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url))
const START = '<!-- bench:results:start -->'
const END = '<!-- bench:results:end -->'

// biome-ignore lint/suspicious/noExplicitAny: scenarios differ in their parameter types.
const SCENARIOS: Array<Scenario<any>> = [
  idle,
  fanOut,
  fanOut4k,
  fanOut32k,
  latency,
  manyTopics,
  catchUp,
  durableHttp,
  tokenStreaming,
]

const args = process.argv.slice(2)
let peers: readonly PeerName[] = ALL_PEERS
let docs = true
let quiet = false
let out: string | undefined
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--peers') peers = (args[++i] ?? '').split(',') as PeerName[]
  else if (args[i] === '--no-docs') docs = false
  else if (args[i] === '--quiet') quiet = true
  else if (args[i] === '--out') {
    out = args[++i]
    docs = false
  } else throw new Error(`unknown argument ${args[i]}`)
}
const progress = createProgress({ quiet })
const say = (text: string): void => progress.log(text)

const started = Date.now()
if (peers.includes('nchan')) ensureNchanInstalled()
const machine = machineInfo()
say(
  `${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, ${machine.nginx}, Nchan ${machine.nchan}`,
)
say(`load average at start: ${machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}`)

// biome-ignore lint/suspicious/noExplicitAny: as above.
const runs: Array<ScenarioRun<any>> = []
const skipped: string[] = []
for (const scenario of SCENARIOS) {
  const elapsed = Date.now() - started
  // A scenario's budget is its worst case, far above its usual time: start it only if a usual
  // run (a third of its budget per peer, at most 2 minutes) still fits.
  const usual = Math.min(120_000, (scenario.timeoutMs(scenario.defaults) / 3) * peers.length)
  if (elapsed + usual > BUDGET_MS) {
    skipped.push(scenario.title)
    say(`\n## ${scenario.title}\n   skipped: the ${BUDGET_MS / 60_000}-minute budget is spent`)
    continue
  }
  runs.push(await runScenario(scenario, { peers, progress, ...(out ? { resultsDir: out } : {}) }))
}
const twoNodesSkipped = await twoNodesUnavailable()
if (twoNodesSkipped !== null) {
  say(`\n## ${twoNodes.title}\n   skipped: ${twoNodesSkipped}`)
} else if (Date.now() - started + 60_000 > BUDGET_MS) {
  skipped.push(twoNodes.title)
} else {
  runs.push(await runScenario(twoNodes, { progress, ...(out ? { resultsDir: out } : {}) }))
}
const minutes = (Date.now() - started) / 60_000
progress.close()
say(`\nAll scenarios: ${minutes.toFixed(1)} minutes.`)

if (docs) {
  const sections = runs.map(
    (run) =>
      `### ${run.scenario.title}\n\n${run.scenario.description}\n\n${markdownTable(run)}\n\n![${run.scenario.id}](../bench/results/${run.scenario.id}.svg)\n`,
  )
  const loads = runs.map((run) => run.loadAverage[0]?.toFixed(1)).join(', ')
  const block = [
    START,
    `Run of ${new Date(started).toISOString().slice(0, 16).replace('T', ' ')} UTC, ${minutes.toFixed(1)} minutes: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, ${machine.nginx}, Nchan ${machine.nchan}. One-minute load average before each scenario: ${loads}.`,
    '',
    ...sections,
    ...(twoNodesSkipped === null
      ? []
      : [`### ${twoNodes.title}\n\nSkipped: ${twoNodesSkipped}.\n`]),
    ...(skipped.length > 0 ? [`Not run (time budget): ${skipped.join(', ')}.\n`] : []),
    END,
  ].join('\n')
  const text = readFileSync(DOC, 'utf8')
  const from = text.indexOf(START)
  const to = text.indexOf(END)
  if (from === -1 || to === -1) throw new Error(`${DOC} lacks the ${START} … ${END} markers`)
  writeFileSync(DOC, text.slice(0, from) + block + text.slice(to + END.length))
  say('docs/benchmarks.md updated.')
}

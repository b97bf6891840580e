// The soak harness: `npm run soak` (= node --import tsx bench/soak/run.ts), `-- --help` for the
// options. It starts the hub as a child process for each store in turn (memory, SQLite, two
// Redis-backed nodes) and loads it for --minutes (5) with payloads from 10 B to 256 KiB, bursts
// from 64 concurrent publishers, reconnect storms from random points of the history and from
// `earliest`, fast, slow and stalled readers, SseClient subscribers whose tokens expire, and
// restarts by SIGKILL and SIGTERM. It checks that every reading client received every update
// acknowledged on its topics once and in the hub's order, and caught up at the end, and that
// the hub's RSS stayed bounded and flat. Progress goes to stderr: a bar per store and phase on
// a terminal, plain lines (every 10 % or 10 s) otherwise, none with --quiet; the report
// (markdown) to stdout; with --json, the figures and one SVG chart per store beside them; exit
// 1 on any failure.
//
//   npm run soak                                  5 minutes per store, all stores
//   npm run soak -- --seconds 10 --stores sqlite  a short run (small counts)
//   npm run soak -- --seconds 8 --stores memory --inject drop   the checks going red on purpose

import { writeFileSync } from 'node:fs'
import { createProgress } from '../load/progress.ts'
import { writeSoakCharts } from './charts.ts'
import { parseSoakArgs, SOAK_USAGE } from './options.ts'
import { markdownReport } from './report.ts'
import { runSoak } from './soak.ts'

// A signal ends the run through process.exit, so the hubs it started are killed by pid on the way
// out (bench/soak/hub-node.ts); Node's default handling would skip the exit hooks.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => process.exit(130))
}

async function main(): Promise<void> {
  let parsed: ReturnType<typeof parseSoakArgs>
  try {
    parsed = parseSoakArgs(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`soak: ${(error as Error).message}\n\n${SOAK_USAGE}`)
    process.exitCode = 2
    return
  }
  if (parsed.help) {
    process.stdout.write(SOAK_USAGE)
    return
  }
  const { options } = parsed
  // stdout carries the report: progress and its log lines go to stderr.
  const progress = createProgress({ quiet: options.quiet, logStream: process.stderr })
  // A signal ends the run through process.exit (above): leave the terminal's line clean.
  process.once('exit', () => progress.close())
  const results = await runSoak(options, progress)
  progress.close()
  process.stdout.write(`${markdownReport(results, options)}\n`)
  if (options.json !== null) {
    writeFileSync(options.json, `${JSON.stringify({ options, results }, null, 2)}\n`)
    for (const path of writeSoakCharts(options.json, results, options)) {
      process.stderr.write(`soak: chart ${path}\n`)
    }
  }
  process.exitCode = results.some((result) => result.status === 'fail') ? 1 : 0
}

await main()

// Output of a scenario run: the console table with ssehub ÷ peer ratios, the JSON record and a
// hand-written SVG bar chart in bench/results/, and the Markdown table docs/benchmarks.md shows.

import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, loadavg, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PeerName } from '../peers/peer.ts'
import type { Metric, PeerResult, ScenarioRun } from './scenario-types.ts'
import { formatNumber } from './stats.ts'
import { escapeXml, svgDocument } from './svg.ts'

/** bench/results/ */
export const RESULTS_DIR = fileURLToPath(new URL('../results/', import.meta.url))

const SSEHUB: readonly PeerName[] = ['ssehub-sqlite', 'ssehub-memory', 'ssehub-redis']
const REFERENCES: readonly PeerName[] = ['raw-node', 'nchan', 'nchan-redis']
const COLORS: Record<PeerName, string> = {
  'ssehub-sqlite': '#1d4ed8',
  'ssehub-memory': '#60a5fa',
  'ssehub-redis': '#7c3aed',
  'raw-node': '#9ca3af',
  nchan: '#16a34a',
  'nchan-redis': '#65a30d',
}

/** What the figures were measured on. */
export function machineInfo() {
  const nginx = spawnSync('nginx', ['-v'], { encoding: 'utf8' })
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax.
  const nchan = spawnSync('dpkg-query', ['-W', '-f', '${Version}', 'libnginx-mod-nchan'], {
    encoding: 'utf8',
  })
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    kernel: release(),
    node: process.version,
    nginx: nginx.status === 0 ? nginx.stderr.trim().replace('nginx version: ', '') : 'absent',
    nchan: nchan.status === 0 ? nchan.stdout.trim() : 'absent',
    loadAverage: loadavg(),
  }
}

type Row = { peer: PeerName; result: PeerResult | { error: string } }

function rows<P extends object>(run: ScenarioRun<P>): Row[] {
  return Object.entries(run.results).map(([peer, result]) => ({
    peer: peer as PeerName,
    result: result as PeerResult | { error: string },
  }))
}

function isResult(result: PeerResult | { error: string }): result is PeerResult {
  return !('error' in result)
}

/** ` (µs)`, or nothing for a rate whose label already says `/s`. */
function unit(metric: Metric): string {
  return metric.unit === '/s' ? '' : ` (${metric.unit})`
}

function header(metric: Metric): string {
  return `${metric.label} ${metric.better === 'higher' ? '↑' : '↓'}`
}

/** ssehub ÷ reference for each pair present, per metric. */
function ratios<P extends object>(run: ScenarioRun<P>): Array<{ label: string; values: string[] }> {
  const out: Array<{ label: string; values: string[] }> = []
  for (const ours of SSEHUB) {
    const a = run.results[ours]
    if (a === undefined || !isResult(a)) continue
    for (const theirs of REFERENCES) {
      const b = run.results[theirs]
      if (b === undefined || !isResult(b)) continue
      out.push({
        label: `${ours} ÷ ${theirs}`,
        values: run.scenario.metrics.map((m) => {
          const x = a.metrics[m.key]
          const y = b.metrics[m.key]
          return x === undefined || y === undefined || !Number.isFinite(x / y)
            ? '—'
            : `${(x / y).toFixed(2)}×`
        }),
      })
    }
  }
  return out
}

function cells(result: PeerResult | { error: string }, metrics: Metric[]): string[] {
  if (!isResult(result)) return [...metrics.map(() => '—'), '—', '—', `failed: ${result.error}`]
  return [
    ...metrics.map((m) => formatNumber(result.metrics[m.key] ?? Number.NaN)),
    String(result.lost),
    String(result.duplicates),
    result.failedConnections > 0 ? `${result.failedConnections} connections failed or dropped` : '',
  ]
}

/** Prints the scenario's table and ratios. */
export function printTable<P extends object>(run: ScenarioRun<P>): void {
  const { metrics } = run.scenario
  const head = ['peer', ...metrics.map(header), 'lost', 'dup', '']
  const body = rows(run).map(({ peer, result }) => [peer, ...cells(result, metrics)])
  const ratioRows = ratios(run).map((r) => [r.label, ...r.values, '', '', ''])
  const all = [head, ...body, ...ratioRows]
  const widths = head.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)))
  const line = (row: string[]): string =>
    `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ')}`.trimEnd()
  console.log(`\n  ${run.scenario.title}`)
  console.log(line(head))
  for (const row of body) console.log(line(row))
  if (ratioRows.length > 0) {
    console.log('  ratios ssehub ÷ peer (↑: above 1 is better for ssehub; ↓: below 1 is)')
    for (const row of ratioRows) console.log(line(row))
  }
  for (const { peer, result } of rows(run)) {
    if (isResult(result)) for (const note of result.notes) console.log(`  note (${peer}): ${note}`)
  }
  console.log(`  (${run.seconds.toFixed(0)} s)`)
}

/** The scenario's table in Markdown, ratios included. */
export function markdownTable<P extends object>(run: ScenarioRun<P>): string {
  const { metrics } = run.scenario
  const head = ['peer', ...metrics.map((m) => `${header(m)}${unit(m)}`), 'lost', 'dup']
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
  ]
  for (const { peer, result } of rows(run)) {
    const c = cells(result, metrics)
    lines.push(`| ${peer} | ${c.slice(0, metrics.length + 2).join(' | ')} |`)
  }
  for (const r of ratios(run)) lines.push(`| *${r.label}* | ${r.values.join(' | ')} | | |`)
  return lines.join('\n')
}

/** Writes `<dir>/<id>.json` and `<id>.svg`; `dir` defaults to bench/results/ (JSON gitignored). */
export function writeResults<P extends object>(run: ScenarioRun<P>, dir = RESULTS_DIR): void {
  mkdirSync(dir, { recursive: true })
  const record = {
    scenario: run.scenario.id,
    title: run.scenario.title,
    description: run.scenario.description,
    params: run.params,
    startedAt: run.startedAt,
    seconds: run.seconds,
    loadAverageBefore: run.loadAverage,
    machine: machineInfo(),
    metrics: run.scenario.metrics,
    results: run.results,
  }
  writeFileSync(join(dir, `${run.scenario.id}.json`), `${JSON.stringify(record, null, 2)}\n`)
  writeFileSync(join(dir, `${run.scenario.id}.svg`), svgChart(run))
}

/** One horizontal bar panel per charted metric, one bar per peer. */
export function svgChart<P extends object>(run: ScenarioRun<P>): string {
  const width = 760
  const labelWidth = 130
  const barMax = width - labelWidth - 120
  const barHeight = 18
  const gap = 6
  const metrics = run.scenario.metrics.filter((m) => m.chart !== false)
  const peers = rows(run)
  const parts: string[] = []
  let y = 34
  parts.push(
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(run.scenario.title)}</text>`,
  )
  for (const metric of metrics) {
    const values = peers.map(({ result }) =>
      isResult(result) ? (result.metrics[metric.key] ?? Number.NaN) : Number.NaN,
    )
    const max = Math.max(...values.filter(Number.isFinite), 0)
    y += 18
    const direction = metric.better === 'higher' ? 'higher is better' : 'lower is better'
    parts.push(
      `<text x="10" y="${y}" font-size="13" font-weight="bold">${escapeXml(`${metric.label}${unit(metric)}, ${direction}`)}</text>`,
    )
    y += 8
    peers.forEach(({ peer }, i) => {
      const value = values[i] as number
      const length = Number.isFinite(value) && max > 0 ? Math.max(1, (value / max) * barMax) : 0
      const top = y + i * (barHeight + gap)
      parts.push(
        `<text x="10" y="${top + 13}" font-size="12">${peer}</text>`,
        `<rect x="${labelWidth}" y="${top}" width="${length.toFixed(1)}" height="${barHeight}" fill="${COLORS[peer]}"/>`,
        `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${top + 13}" font-size="12">${Number.isFinite(value) ? escapeXml(formatNumber(value)) : 'failed'}</text>`,
      )
    })
    y += peers.length * (barHeight + gap) + 6
  }
  y += 10
  parts.push(
    `<text x="10" y="${y}" font-size="11" fill="#555">${escapeXml(`${run.startedAt} · ${machineInfo().cpu}, ${availableParallelism()} cores · Node ${process.version} · generator on the same machine`)}</text>`,
  )
  return svgDocument(width, y + 12, parts)
}

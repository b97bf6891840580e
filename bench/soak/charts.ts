import { writeFileSync } from 'node:fs'
import { availableParallelism, cpus } from 'node:os'
import { type LinePanel, lineChart, type ShadedSpan } from '../load/line-chart.ts'
import type { SoakOptions } from './options.ts'
import type { StoreResult } from './verdict.ts'

/** Node colours in the order the nodes come (the second Redis node after the first). */
const NODE_COLORS = ['#1d4ed8', '#f59e0b', '#7c3aed', '#0d9488']

/**
 * One store's run over time as an SVG chart: acknowledged publishes/s, deliveries/s,
 * publish-to-receive latency (p50, p99) of the live readers, and each node's RSS, with the
 * warm-up and drain shaded and restarts and storms marked.
 */
export function soakChart(result: StoreResult, options: SoakOptions, date = new Date()): string {
  const { timeline } = result
  const panels: LinePanel[] = [
    {
      title: 'Publishes acknowledged',
      unit: '/s',
      series: [{ name: 'acknowledged', color: '#1d4ed8', values: timeline.publishesPerSecond }],
    },
    {
      title: 'Deliveries to reading clients',
      unit: '/s',
      series: [{ name: 'delivered', color: '#16a34a', values: timeline.deliveriesPerSecond }],
    },
    {
      title: 'Publish-to-receive latency, live readers',
      unit: 'ms',
      series: [
        { name: 'p99', color: '#7c3aed', values: timeline.latencyP99Ms },
        { name: 'p50', color: '#a78bfa', values: timeline.latencyP50Ms, dashed: true },
      ],
    },
    {
      title: 'Hub RSS',
      unit: 'MiB',
      series: Object.entries(timeline.rssMiB).map(([node, values], i) => ({
        name: node,
        color: NODE_COLORS[i % NODE_COLORS.length] as string,
        values,
      })),
    },
  ]
  const first = timeline.at[0] ?? 0
  const last = timeline.at.at(-1) ?? 0
  const spans: ShadedSpan[] = []
  if (first < 0) spans.push({ from: first, to: 0, label: 'warm-up' })
  if (last > timeline.loadSeconds) {
    spans.push({ from: timeline.loadSeconds, to: last, label: 'drain' })
  }
  const seconds = options.durationMs / 1000
  return lineChart({
    title: `Soak, ${result.store} store: ${result.status}, ${seconds >= 60 ? `${seconds / 60} min` : `${seconds} s`} of load, seed ${options.seed}`,
    footer: `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC · ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores · Node ${process.version} · one sample every ${timeline.stepSeconds} s`,
    at: timeline.at,
    panels,
    spans,
    markers: timeline.events.map((event) => ({ at: event.at, label: event.what })),
  })
}

/** Where the chart of `store` goes beside the JSON at `json`: `soak.json` → `soak-sqlite.svg`. */
export function chartPath(json: string, store: string): string {
  return `${json.replace(/\.json$/i, '')}-${store}.svg`
}

/** Writes one chart per store that ran beside the JSON at `json`; returns their paths. */
export function writeSoakCharts(
  json: string,
  results: readonly StoreResult[],
  options: SoakOptions,
): string[] {
  const written: string[] = []
  for (const result of results) {
    if (result.timeline.at.length === 0) continue
    const path = chartPath(json, result.store)
    writeFileSync(path, soakChart(result, options))
    written.push(path)
  }
  return written
}

// Time-series charts in the benches' hand-written SVG style (svg.ts: white, sans-serif, the
// same title and footer sizes as report.ts's bar charts): panels stacked over one time axis,
// each with its own y scale from 0, a legend in its title line, shaded spans (a warm-up) and
// marked moments (a restart) across every panel.

import { escapeXml, svgDocument } from './svg.ts'

/** One line of a panel: a value per point of the chart's time axis, `null` for a gap. */
export interface LineSeries {
  readonly name: string
  /** A CSS colour. */
  readonly color: string
  readonly values: ReadonlyArray<number | null>
  /** Drawn dashed (a secondary figure, such as p50 beside p99). Defaults to `false`. */
  readonly dashed?: boolean
}

/** One panel: a title, a unit for its y axis and its lines. */
export interface LinePanel {
  readonly title: string
  /** Shown after the title, e.g. `MiB` or `/s`. */
  readonly unit: string
  readonly series: readonly LineSeries[]
}

/** A span of the time axis shaded in every panel, e.g. the warm-up. */
export interface ShadedSpan {
  readonly from: number
  readonly to: number
  readonly label: string
}

/** A moment marked by a vertical line in every panel, e.g. a restart. */
export interface TimeMarker {
  readonly at: number
  readonly label: string
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  readonly title: string
  /** Small grey text under the chart: date, machine. */
  readonly footer: string
  /** Each point's time, in seconds, ascending; the series' values line up with it. */
  readonly at: readonly number[]
  readonly panels: readonly LinePanel[]
  readonly spans?: readonly ShadedSpan[]
  readonly markers?: readonly TimeMarker[]
  /** Pixels. Defaults to `760`, as the bar charts. */
  readonly width?: number
}

const LEFT = 64
const RIGHT = 16
const PLOT_HEIGHT = 110
/** Steps of the time axis, in seconds: the first that gives at most 8 ticks is used. */
const TIME_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600]

/** The smallest 1, 2 or 5 × 10^n at or above `value` (the top of a y axis). */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power
  return 10 * power
}

/** A y-axis label: no more digits than the value has (`0`, `2.5`, `1,500`). */
function tickLabel(value: number): string {
  return Number(value.toPrecision(3)).toLocaleString('en-US', { maximumFractionDigits: 3 })
}

/** `m:ss` for a time in seconds, negative ones (a warm-up) with a minus sign. */
function clock(seconds: number): string {
  const whole = Math.round(Math.abs(seconds))
  const text = `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`
  return seconds < 0 && whole > 0 ? `−${text}` : text
}

/** Panels of lines over a shared time axis, as a standalone SVG document. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 760
  const plotWidth = width - LEFT - RIGHT
  const { at } = options
  const first = at[0] ?? 0
  const last = at.at(-1) ?? first + 1
  const span = Math.max(1e-9, last - first)
  const x = (t: number): number => LEFT + ((t - first) / span) * plotWidth
  const step = TIME_STEPS.find((s) => span / s <= 8) ?? 3600
  const ticks: number[] = []
  for (let t = Math.ceil(first / step) * step; t <= last; t += step) ticks.push(t)

  const parts: string[] = [
    `<text x="10" y="22" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  ]
  let y = 34
  const markerLabelsY = y + 12
  if ((options.markers ?? []).length > 0) y += 26
  for (const panel of options.panels) {
    y += 18
    parts.push(...legend(panel, y))
    const top = y + 8
    const bottom = top + PLOT_HEIGHT
    const values = panel.series.flatMap((s) => s.values.filter((v): v is number => v !== null))
    const ceiling = niceCeiling(Math.max(0, ...values))
    const yOf = (v: number): number => bottom - (v / ceiling) * PLOT_HEIGHT
    for (const s of options.spans ?? []) {
      const from = x(Math.max(first, s.from))
      const to = x(Math.min(last, s.to))
      if (to <= from) continue
      parts.push(
        `<rect x="${from.toFixed(1)}" y="${top}" width="${(to - from).toFixed(1)}" height="${PLOT_HEIGHT}" fill="#f3f4f6"/>`,
      )
      // Labelled only where the label fits (about 6 px a character at 10 px): a drain of a
      // second or two is a sliver at the right edge.
      if (to - from >= s.label.length * 6 + 8) {
        parts.push(
          `<text x="${(from + 4).toFixed(1)}" y="${top + 12}" font-size="10" fill="#6b7280">${escapeXml(s.label)}</text>`,
        )
      }
    }
    for (let i = 0; i <= 4; i++) {
      const v = (ceiling * i) / 4
      const gy = yOf(v).toFixed(1)
      parts.push(
        `<line x1="${LEFT}" y1="${gy}" x2="${width - RIGHT}" y2="${gy}" stroke="${i === 0 ? '#9ca3af' : '#e5e7eb'}"/>`,
        `<text x="${LEFT - 6}" y="${(yOf(v) + 4).toFixed(1)}" font-size="11" text-anchor="end" fill="#374151">${escapeXml(tickLabel(v))}</text>`,
      )
    }
    for (const marker of options.markers ?? []) {
      const mx = x(marker.at).toFixed(1)
      parts.push(
        `<line x1="${mx}" y1="${top}" x2="${mx}" y2="${bottom}" stroke="#dc2626" stroke-width="1" stroke-dasharray="3 3"/>`,
      )
    }
    for (const series of panel.series) {
      const d = pathOf(series.values, at, x, yOf)
      if (d === '') continue
      parts.push(
        `<path d="${d}" fill="none" stroke="${series.color}" stroke-width="1.5"${series.dashed === true ? ' stroke-dasharray="5 3"' : ''}/>`,
      )
    }
    for (const t of ticks) {
      parts.push(
        `<text x="${x(t).toFixed(1)}" y="${bottom + 14}" font-size="11" text-anchor="middle" fill="#374151">${clock(t)}</text>`,
      )
    }
    y = bottom + 20
  }
  // Marker labels once, above the first panel, staggered on two rows so neighbours do not
  // overlap.
  ;(options.markers ?? []).forEach((marker, i) => {
    parts.push(
      `<text x="${x(marker.at).toFixed(1)}" y="${markerLabelsY + (i % 2) * 12}" font-size="10" text-anchor="middle" fill="#dc2626">${escapeXml(marker.label)}</text>`,
    )
  })
  y += 10
  parts.push(`<text x="10" y="${y}" font-size="11" fill="#555">${escapeXml(options.footer)}</text>`)
  return svgDocument(width, y + 12, parts)
}

/** The panel's title and unit, then a swatch and name per series. */
function legend(panel: LinePanel, y: number): string[] {
  const title = `${panel.title}${panel.unit === '' ? '' : ` (${panel.unit})`}`
  const parts = [
    `<text x="10" y="${y}" font-size="13" font-weight="bold">${escapeXml(title)}</text>`,
  ]
  // About 7.5 px per character of 13 px bold sans-serif: enough to start the legend after it.
  let lx = 10 + title.length * 7.5 + 16
  for (const series of panel.series) {
    parts.push(
      `<line x1="${lx.toFixed(1)}" y1="${y - 4}" x2="${(lx + 18).toFixed(1)}" y2="${y - 4}" stroke="${series.color}" stroke-width="2"${series.dashed === true ? ' stroke-dasharray="5 3"' : ''}/>`,
      `<text x="${(lx + 22).toFixed(1)}" y="${y}" font-size="12">${escapeXml(series.name)}</text>`,
    )
    lx += 22 + series.name.length * 7 + 16
  }
  return parts
}

/** An SVG path through the points, lifting the pen over `null` values. */
function pathOf(
  values: ReadonlyArray<number | null>,
  at: readonly number[],
  x: (t: number) => number,
  y: (v: number) => number,
): string {
  const commands: string[] = []
  let pen = false
  values.forEach((value, i) => {
    const t = at[i]
    if (value === null || t === undefined) {
      pen = false
      return
    }
    commands.push(`${pen ? 'L' : 'M'}${x(t).toFixed(1)} ${y(value).toFixed(1)}`)
    pen = true
  })
  return commands.join(' ')
}

// @ts-check
// Hand-drawn SVG charts for the dashboard: no charting library. A line chart is a few polylines
// in a fixed viewBox stretched to the card (preserveAspectRatio="none", strokes kept at their
// width by vector-effect), rescaled to the largest value shown; a bar list is plain HTML.
// Everything goes through textContent and setAttribute: selectors and topics come from clients.

const SVG = 'http://www.w3.org/2000/svg'
const WIDTH = 300
const HEIGHT = 80

/**
 * @typedef {{ name: string }} Series
 * @typedef {{ push(values: (number | null)[]): void, readonly points: number }} LineChart
 */

/**
 * A line chart of the last `capacity` values of each series, drawn into `svg`.
 *
 * @param {SVGSVGElement} svg
 * @param {Series[]} series each drawn with the CSS class `line-<name>`
 * @param {{ capacity?: number, unit?: string }} [options] capacity defaults to 60 points (a
 *   minute at one a second); unit is shown after the scale's top value
 * @returns {LineChart}
 */
export function createLineChart(svg, series, options = {}) {
  const capacity = options.capacity ?? 60
  const unit = options.unit ?? ''
  /** @type {(number | null)[][]} */
  const values = series.map(() => [])
  const grid = document.createElementNS(SVG, 'path')
  grid.setAttribute('class', 'grid')
  // Lines at the scale's top value, at half of it, and at zero.
  const full = HEIGHT * 0.15 - 1
  const half = HEIGHT * 0.575 - 1
  grid.setAttribute('d', `M0 ${full}H${WIDTH}M0 ${half}H${WIDTH}M0 ${HEIGHT - 0.5}H${WIDTH}`)
  svg.append(grid)
  const lines = series.map(({ name }) => {
    const line = document.createElementNS(SVG, 'polyline')
    line.setAttribute('class', `line line-${name}`)
    line.setAttribute('data-series', name)
    line.setAttribute('fill', 'none')
    line.setAttribute('vector-effect', 'non-scaling-stroke')
    svg.append(line)
    return line
  })
  // The scale's top value, in HTML beside the SVG: text inside a stretched SVG would be stretched.
  const scale = document.createElement('span')
  scale.className = 'scale'
  svg.after(scale)

  return {
    get points() {
      return values[0]?.length ?? 0
    },
    push(next) {
      series.forEach((_, i) => {
        const list = /** @type {(number | null)[]} */ (values[i])
        list.push(next[i] ?? null)
        if (list.length > capacity) list.shift()
      })
      let top = 0
      for (const list of values) for (const v of list) if (v !== null && v > top) top = v
      top = niceCeiling(top)
      const step = WIDTH / Math.max(capacity - 1, 1)
      values.forEach((list, i) => {
        const offset = capacity - list.length
        const points = []
        for (let j = 0; j < list.length; j++) {
          const v = list[j]
          if (v === null || v === undefined) continue
          const x = (offset + j) * step
          // The top 15 % stays clear for the scale's label.
          const y = HEIGHT - (v / top) * (HEIGHT * 0.85) - 1
          points.push(`${x.toFixed(1)},${y.toFixed(1)}`)
        }
        lines[i]?.setAttribute('points', points.join(' '))
      })
      scale.textContent = `${formatNumber(top)}${unit}`
      svg.setAttribute('data-points', String(values[0]?.length ?? 0))
    },
  }
}

/**
 * Replaces the items of `list` by one bar each, as wide as its share of the largest.
 *
 * @param {HTMLElement} list an `<ol>`
 * @param {{ label: string, value: number, text?: string }[]} rows
 */
export function renderBars(list, rows) {
  const top = Math.max(1, ...rows.map((row) => row.value))
  list.replaceChildren(
    ...rows.map((row) => {
      const item = document.createElement('li')
      const label = document.createElement('span')
      label.className = 'label'
      label.textContent = row.label
      label.title = row.label
      const value = document.createElement('span')
      value.className = 'value'
      value.textContent = row.text ?? formatNumber(row.value)
      const bar = document.createElement('span')
      bar.className = 'bar'
      bar.style.setProperty('--share', String(row.value / top))
      item.append(label, value, bar)
      return item
    }),
  )
}

/** @param {number} value the smallest 1, 2 or 5 × 10ⁿ at or above it (at least 1) */
function niceCeiling(value) {
  if (!(value > 1)) return 1
  const power = 10 ** Math.floor(Math.log10(value))
  for (const m of [1, 2, 5, 10]) if (m * power >= value) return m * power
  return 10 * power
}

/**
 * @param {number | null | undefined} value
 * @returns {string} grouped digits, at most 3 decimals (one under 100, none from 1,000)
 */
export function formatNumber(value) {
  if (value === null || value === undefined) return '–'
  const digits = Math.abs(value) >= 1000 ? 0 : Math.abs(value) >= 100 ? 1 : 3
  return value.toLocaleString('en-US', { maximumFractionDigits: digits })
}

/** @param {number} bytes */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`
}

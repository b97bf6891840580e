// How one progress step is written: as a bar redrawn in place on a terminal, or as a plain line
// for a log. Pure functions of a snapshot, so progress.ts decides only when to write, and the
// tests can check widths and wording without a terminal or a clock.

/** What a step looked like when it was drawn. */
export interface StepSnapshot {
  /** What runs, e.g. `fan-out · nchan (2/4)` or `soak sqlite`. */
  readonly label: string
  /** The part of the step under way, e.g. `subscribe`; `''` when it has none. */
  readonly phase: string
  readonly done: number
  /** What `done` counts up to, or `null` when unknown (no bar, no percent, no ETA). */
  readonly total: number | null
  /** `count`: done/total items with a rate; `time`: done and total are milliseconds. */
  readonly unit: 'count' | 'time'
  /** Items per second over the phase so far, or `null` before it can be told. */
  readonly rate: number | null
  /** Time left at that rate, in ms, or `null` when unknown. */
  readonly etaMs: number | null
  /** Since the phase began, in ms. */
  readonly elapsedMs: number
  /** Free text after the figures (failures, RSS…); `''` for none. */
  readonly detail: string
}

const SGR = { bar: '\x1b[36m', dim: '\x1b[2m', reset: '\x1b[0m' } as const
/** Narrowest and widest bar, in cells. */
const BAR_MIN = 10
const BAR_MAX = 30
/** Cells the percent and figures usually take at most (`100 %  1,234,567/6,000,000  …`). */
const TAIL_ROOM = 48

/** `m:ss` (or `h:mm:ss`) for a duration in ms; `?:??` for one not known. */
export function formatClock(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms) || ms < 0) return '?:??'
  const seconds = Math.round(ms / 1000)
  const s = String(seconds % 60).padStart(2, '0')
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes}:${s}`
  return `${Math.floor(minutes / 60)}:${String(minutes % 60).padStart(2, '0')}:${s}`
}

const count = (n: number): string => Math.round(n).toLocaleString('en-US')

function percent(step: StepSnapshot): number | null {
  if (step.total === null || step.total <= 0) return null
  return Math.min(100, Math.max(0, (step.done / step.total) * 100))
}

/** The figures after the bar: `520/1,000  1,234/s  ETA 0:03` (or `1:10/5:00` for time). */
function figures(step: StepSnapshot): string[] {
  if (step.unit === 'time') {
    if (step.total === null) return [formatClock(step.done)]
    return [
      `${formatClock(step.done)}/${formatClock(step.total)}`,
      `ETA ${formatClock(Math.max(0, step.total - step.done))}`,
    ]
  }
  // Nothing counted yet and nothing to count to: only the time it has been running.
  if (step.total === null && step.done === 0) return [formatClock(step.elapsedMs)]
  const parts = [
    step.total === null ? count(step.done) : `${count(step.done)}/${count(step.total)}`,
  ]
  if (step.rate !== null) parts.push(`${count(step.rate)}/s`)
  if (step.total !== null) parts.push(`ETA ${formatClock(step.etaMs)}`)
  else parts.push(formatClock(step.elapsedMs))
  return parts
}

function title(step: StepSnapshot): string {
  return step.phase === '' ? step.label : `${step.label} ${step.phase}`
}

/** Cuts `text` to `width` code points, marking the cut with `…`. */
function cut(text: string, width: number): string {
  const points = [...text]
  if (points.length <= width) return text
  return width <= 0 ? '' : `${points.slice(0, width - 1).join('')}…`
}

const widthOf = (text: string): number => [...text].length

/** `text` cut to fit a terminal of `columns` cells without wrapping. */
export function fitLine(text: string, columns: number): string {
  return cut(text, Math.max(20, columns - 1))
}

/**
 * The terminal line of a step: title, bar, percent, figures and detail, never wider than
 * `columns - 1` cells (a line as wide as the terminal wraps on some terminals and breaks the
 * redraw). The bar shrinks to 10 cells, then the title is shortened; the detail gets what
 * room is left (terminals under 21 columns get 20 cells and may wrap). With
 * `color`, the bar and the ETA get SGR colours, added once the line fits: they take no cells.
 */
export function formatTtyLine(step: StepSnapshot, columns: number, color: boolean): string {
  const room = Math.max(20, columns - 1)
  const pct = percent(step)
  const numbers = figures(step).join('  ')
  const tail = pct === null ? numbers : `${pct.toFixed(0).padStart(3)} %  ${numbers}`
  let name = title(step)
  let cells = 0
  if (pct !== null) {
    // Room kept for the figures as if they were at their usual widest, so the bar does not
    // jump as the counts and the rate grow digits.
    const figuresRoom = Math.max(widthOf(tail), TAIL_ROOM)
    cells = Math.max(BAR_MIN, Math.min(BAR_MAX, room - widthOf(name) - figuresRoom - 4))
  }
  const filled = Math.round(((pct ?? 0) / 100) * cells)
  const body = '█'.repeat(filled) + '░'.repeat(cells - filled)
  const middle = body === '' ? '  ' : `  ${body}  `
  const fixed = widthOf(middle) + widthOf(tail)
  name = cut(name, Math.max(8, room - fixed))
  let line = `${name}${middle}${tail}`
  const detailRoom = room - widthOf(line) - 2
  if (step.detail !== '' && detailRoom >= 6) line += `  ${cut(step.detail, detailRoom)}`
  line = cut(line, room)
  if (!color) return line
  const barred = body === '' ? line : line.replace(body, `${SGR.bar}${body}${SGR.reset}`)
  return barred.replace(/ETA \S+/, (eta) => `${SGR.dim}${eta}${SGR.reset}`)
}

/**
 * The plain line of a step, for logs and pipes: no escape codes, no carriage returns, e.g.
 * `[fan-out · nchan (2/4)] subscribe 50 % 500/1,000 1,234/s ETA 0:01; 0 failed`.
 */
export function formatPlainLine(step: StepSnapshot): string {
  const pct = percent(step)
  const head = step.phase === '' ? `[${step.label}]` : `[${step.label}] ${step.phase}`
  // A step that just began has no figures worth a line's room.
  const idle = step.total === null && step.done === 0 && step.elapsedMs < 1000
  const parts = [
    head,
    ...(pct === null ? [] : [`${pct.toFixed(0)} %`]),
    ...(idle ? [] : figures(step)),
  ]
  return `${parts.join(' ')}${step.detail === '' ? '' : `; ${step.detail}`}`
}

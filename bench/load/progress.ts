// Progress of the benches and the soak, for the person watching: on a terminal, the running
// step's bar redrawn in place; in a log or a pipe, plain lines at a bounded rate. It only ever
// writes when a caller updates it (no timer of its own), so it costs nothing between updates;
// callers update it from the coordinating process a few times a second, never from hot loops.

import { fitLine, formatPlainLine, formatTtyLine, type StepSnapshot } from './progress-line.ts'

/** Where progress goes: a stream, and what it knows of the terminal behind it. */
export interface ProgressStream {
  write(text: string): unknown
  readonly isTTY?: boolean | undefined
  /** Terminal width in cells. */
  readonly columns?: number | undefined
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Where bars and progress lines go. Defaults to `process.stderr`. */
  stream?: ProgressStream
  /**
   * Where {@link Progress.log} lines go. Defaults to `process.stdout`; give `process.stderr`
   * when stdout carries results (the soak's report).
   */
  logStream?: ProgressStream
  /** Redraw a bar in place. Defaults to `stream.isTTY`. */
  tty?: boolean
  /** Colour the bar. Defaults to `true` on a terminal unless `NO_COLOR` is set (no-color.org). */
  color?: boolean
  /** Where `NO_COLOR` is read. Defaults to `process.env`. */
  env?: Readonly<Record<string, string | undefined>>
  /** Draw no progress at all ({@link Progress.log} still prints). Defaults to `false`. */
  quiet?: boolean
  /** Terminal width when the stream does not tell, in cells. Defaults to `80`. */
  columns?: number
  /** Least time between two redraws on a terminal, in ms. Defaults to `200`. */
  redrawMs?: number
  /** Plain mode: a line at least this often while a step runs, in ms. Defaults to `10_000`. */
  plainEveryMs?: number
  /**
   * Plain mode: least time between two lines for passing a tenth of the total, in ms, so a fast
   * step does not print ten lines at once. Defaults to `1_000`.
   */
  plainGapMs?: number
  /** The clock, in ms. Defaults to `performance.now`. */
  now?: () => number
}

/** A change to a step, given with {@link ProgressStep.update}. */
export interface StepUpdate {
  /** What `done` counts up to; `null` for unknown. Kept until changed. */
  total?: number | null
  /** A new phase restarts the rate and the ETA (and prints a plain line). Kept until changed. */
  phase?: string
  /** Kept until changed. */
  detail?: string
  /** Kept until changed; see {@link BeginOptions.unit}. */
  unit?: 'count' | 'time'
}

/** One running step: a bar on a terminal. */
export interface ProgressStep {
  /** Sets how far it is (and optionally its total, phase and detail); draws if it is time. */
  update(done: number, change?: StepUpdate): void
  /** Ends it: a last line stays on screen (terminal) or is printed (plain). Idempotent. */
  end(detail?: string): void
}

/** Options of {@link Progress.begin}. */
export interface BeginOptions {
  total?: number | null
  /** `count` (the default) shows items and a rate; `time` reads `done`/`total` as ms. */
  unit?: 'count' | 'time'
  phase?: string
  detail?: string
}

/** Progress display of one run. */
export interface Progress {
  /** Starts a step; the newest running step is the one drawn. */
  begin(label: string, options?: BeginOptions): ProgressStep
  /** Prints a line of text above the bar (the bar is cleared and redrawn around it). */
  log(text: string): void
  /** Ends every running step. */
  close(): void
}

interface StepState {
  label: string
  unit: 'count' | 'time'
  phase: string
  detail: string
  total: number | null
  done: number
  startedAt: number
  phaseStart: number
  phaseStartDone: number
  lastPlain: number
  /** The tenth of the total the last plain line reported. */
  lastTenth: number
  ended: boolean
}

/** A progress display on `options.stream`: bars on a terminal, plain lines elsewhere. */
export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr
  const logStream = options.logStream ?? process.stdout
  const tty = options.tty ?? stream.isTTY === true
  const { NO_COLOR } = options.env ?? process.env
  const noColor = (NO_COLOR ?? '') !== ''
  const color = tty && (options.color ?? !noColor)
  const quiet = options.quiet ?? false
  const redrawMs = options.redrawMs ?? 200
  const plainEveryMs = options.plainEveryMs ?? 10_000
  const plainGapMs = options.plainGapMs ?? 1_000
  const now = options.now ?? (() => performance.now())
  const columns = (): number => stream.columns ?? options.columns ?? 80
  const running: StepState[] = []
  let drawn = false
  let lastDraw = Number.NEGATIVE_INFINITY

  const snapshot = (step: StepState, at: number): StepSnapshot => {
    const elapsedMs = Math.max(0, at - step.phaseStart)
    const gained = step.done - step.phaseStartDone
    // A rate from less than half a second of data swings wildly; show none until then.
    const rate = step.unit === 'count' && elapsedMs >= 500 ? (gained * 1000) / elapsedMs : null
    const left = step.total === null ? null : Math.max(0, step.total - step.done)
    let etaMs: number | null = null
    if (left !== null && step.unit === 'time') etaMs = left
    else if (left !== null && rate !== null && rate > 0) etaMs = (left / rate) * 1000
    else if (left === 0) etaMs = 0
    return {
      label: step.label,
      phase: step.phase,
      done: step.done,
      total: step.total,
      unit: step.unit,
      rate,
      etaMs,
      elapsedMs,
      detail: step.detail,
    }
  }

  const clear = (): void => {
    if (drawn) stream.write('\r\x1b[K')
    drawn = false
  }
  const draw = (at: number): void => {
    const step = running.at(-1)
    if (step === undefined) {
      clear()
      return
    }
    stream.write(`\r${formatTtyLine(snapshot(step, at), columns(), color)}\x1b[K`)
    drawn = true
    lastDraw = at
  }
  const plain = (step: StepState, at: number, text?: string): void => {
    step.lastPlain = at
    stream.write(`${text ?? formatPlainLine(snapshot(step, at))}\n`)
  }

  const begin = (label: string, begun: BeginOptions = {}): ProgressStep => {
    const at = now()
    const step: StepState = {
      label,
      unit: begun.unit ?? 'count',
      phase: begun.phase ?? '',
      detail: begun.detail ?? '',
      total: begun.total ?? null,
      done: 0,
      startedAt: at,
      phaseStart: at,
      phaseStartDone: 0,
      lastPlain: at,
      lastTenth: 0,
      ended: false,
    }
    if (quiet) return { update: () => {}, end: () => {} }
    running.push(step)
    if (tty) draw(at)
    else plain(step, at, `${formatPlainLine(snapshot(step, at))} started`)
    return {
      update(done, change = {}) {
        if (step.ended) return
        const t = now()
        const newPhase = change.phase !== undefined && change.phase !== step.phase
        if (change.total !== undefined) step.total = change.total
        if (change.detail !== undefined) step.detail = change.detail
        if (change.unit !== undefined) step.unit = change.unit
        if (newPhase) {
          step.phase = change.phase as string
          step.phaseStart = t
          step.phaseStartDone = done
          step.lastTenth = 0
        }
        step.done = done
        if (tty) {
          if (newPhase || t - lastDraw >= redrawMs) draw(t)
          return
        }
        const tenth =
          step.total === null || step.total <= 0
            ? 0
            : Math.min(10, Math.floor((done / step.total) * 10))
        if (newPhase) {
          step.lastTenth = tenth
          plain(step, t)
        } else if (t - step.lastPlain >= plainEveryMs) {
          step.lastTenth = Math.max(step.lastTenth, tenth)
          plain(step, t)
        } else if (tenth > step.lastTenth && t - step.lastPlain >= plainGapMs) {
          step.lastTenth = tenth
          plain(step, t)
        }
      },
      end(detail) {
        if (step.ended) return
        step.ended = true
        const t = now()
        if (detail !== undefined) step.detail = detail
        running.splice(running.indexOf(step), 1)
        const took = `[${step.label}] done in ${((t - step.startedAt) / 1000).toFixed(1)} s`
        const final = step.detail === '' ? took : `${took}; ${step.detail}`
        if (tty) {
          clear()
          stream.write(`${fitLine(final, columns())}\n`)
          draw(t)
        } else {
          plain(step, t, final)
        }
      },
    }
  }

  return {
    begin,
    log(text) {
      if (tty && !quiet) clear()
      logStream.write(`${text}\n`)
      if (tty && !quiet && running.length > 0) draw(now())
    },
    close() {
      for (const step of [...running]) step.ended = true
      running.length = 0
      if (tty) clear()
    },
  }
}

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createProgress, type ProgressOptions } from '../bench/load/progress.ts'
import {
  formatClock,
  formatPlainLine,
  formatTtyLine,
  type StepSnapshot,
} from '../bench/load/progress-line.ts'

// The benches' progress display (bench/load/progress.ts), driven by a hand-moved clock: what
// it writes for a given sequence of updates is fixed, so nothing here depends on timing.

const ESC = '\x1b'
/** Any control sequence (cursor moves, line clears, colours). */
const SGR_OR_CSI = new RegExp(`${ESC}\\[[0-9;]*[A-Za-z]`, 'g')
/** Colour codes only. */
const SGR = new RegExp(`${ESC}\\[[0-9;]*m`)

/** A stream that records what is written to it. */
function recorder(tty: boolean, columns?: number) {
  const writes: string[] = []
  return {
    writes,
    stream: {
      isTTY: tty,
      columns,
      write(text: string) {
        writes.push(text)
        return true
      },
    },
    get text() {
      return writes.join('')
    },
  }
}

/** A progress display on recorded streams, with a clock the test moves. */
function setup(tty: boolean, options: ProgressOptions & { columns?: number } = {}) {
  const out = recorder(tty, options.columns)
  const log = recorder(tty)
  let now = 0
  const progress = createProgress({
    stream: out.stream,
    logStream: log.stream,
    now: () => now,
    ...options,
  })
  return {
    progress,
    out,
    log,
    advance(ms: number) {
      now += ms
    },
  }
}

/** Each line as a terminal would last show it: the text after the final `\r`, codes removed. */
function screenLines(text: string): string[] {
  return text
    .split(/\r|\n/)
    .map((frame) => frame.replace(SGR_OR_CSI, ''))
    .filter((frame) => frame !== '')
}

const snapshot = (change: Partial<StepSnapshot> = {}): StepSnapshot => ({
  label: 'fan-out · ssehub-memory (1/4)',
  phase: 'subscribe',
  done: 500,
  total: 1000,
  unit: 'count',
  rate: 250,
  etaMs: 2000,
  elapsedMs: 2000,
  detail: '0 failed',
  ...change,
})

describe('formatTtyLine', () => {
  it('shows the label, phase, a bar, the percent, counts, rate and ETA', () => {
    const line = formatTtyLine(snapshot(), 120, false)
    assert.match(
      line,
      /^fan-out · ssehub-memory \(1\/4\) subscribe {2}█+░+ {2} 50 % {2}500\/1,000 {2}250\/s {2}ETA 0:02 {2}0 failed$/,
    )
  })

  it('never draws wider than the terminal less one cell, however long the label and detail', () => {
    const long = snapshot({ label: 'x'.repeat(300), detail: 'y'.repeat(300) })
    for (let columns = 10; columns <= 220; columns += 7) {
      for (const step of [
        snapshot(),
        long,
        snapshot({ total: null }),
        snapshot({ unit: 'time' }),
      ]) {
        const line = formatTtyLine(step, columns, false)
        assert.ok([...line].length <= Math.max(20, columns - 1), `${columns}: ${line}`)
      }
    }
  })

  it('colours the bar and the ETA only when asked, taking no extra cells', () => {
    const plain = formatTtyLine(snapshot(), 100, false)
    const colored = formatTtyLine(snapshot(), 100, true)
    assert.doesNotMatch(plain, SGR_OR_CSI)
    assert.ok(colored.includes(`${ESC}[36m█`), colored)
    assert.equal(colored.replace(SGR_OR_CSI, ''), plain)
  })

  it('reads time steps as clocks, with the time left as ETA', () => {
    const line = formatTtyLine(
      snapshot({ unit: 'time', done: 70_000, total: 300_000, rate: null, detail: '' }),
      100,
      false,
    )
    assert.match(line, /23 % {2}1:10\/5:00 {2}ETA 3:50$/)
  })
})

describe('formatPlainLine', () => {
  it('writes one line without escape codes or carriage returns', () => {
    const line = formatPlainLine(snapshot())
    assert.equal(
      line,
      '[fan-out · ssehub-memory (1/4)] subscribe 50 % 500/1,000 250/s ETA 0:02; 0 failed',
    )
    assert.ok(!line.includes(ESC) && !line.includes('\r') && !line.includes('\n'))
  })
})

describe('formatClock', () => {
  it('writes m:ss, h:mm:ss past an hour, and ?:?? for an unknown time', () => {
    assert.equal(formatClock(0), '0:00')
    assert.equal(formatClock(61_400), '1:01')
    assert.equal(formatClock(3_725_000), '1:02:05')
    assert.equal(formatClock(null), '?:??')
    assert.equal(formatClock(Number.POSITIVE_INFINITY), '?:??')
  })
})

describe('createProgress on a terminal', () => {
  it('redraws one line in place with \\r, at most 5 times a second, with an ETA from the rate', () => {
    const { progress, out, advance } = setup(true, { columns: 80, color: false })
    const step = progress.begin('fan-out · nchan (2/4)')
    // 1,000 updates, one every 10 ms (10 s): the display must not draw each.
    for (let i = 1; i <= 1000; i++) {
      advance(10)
      step.update(i, { phase: 'fan-out', total: 1000 })
    }
    const draws = out.writes.filter((w) => w.startsWith('\r') && !w.startsWith('\r\x1b[K'))
    assert.ok(draws.length <= 1 + 10 * 5 + 1, `${draws.length} redraws in 10 s`)
    assert.ok(draws.length >= 10, `${draws.length} redraws`)
    assert.ok(!out.text.includes('\n'), 'no new line while the step runs')
    const last = screenLines(draws.at(-1) as string)[0] as string
    assert.match(last, /fan-out · nchan \(2\/4\) fan-out/)
    assert.match(last, /ETA 0:00/)
    const middle = screenLines(draws[Math.floor(draws.length / 2)] as string)[0] as string
    assert.match(middle, /100\/s {2}ETA 0:0\d/)
    for (const frame of screenLines(out.text)) assert.ok([...frame].length <= 79, frame)
    step.end('0 lost')
    assert.match(out.text, /\n$/)
    assert.match(
      screenLines(out.text).at(-1) as string,
      /^\[fan-out · nchan \(2\/4\)\] done in 10\.0 s; 0 lost$/,
    )
  })

  it('stays within a narrow terminal', () => {
    const { progress, out, advance } = setup(true, { columns: 32, color: false })
    const step = progress.begin('many-topics · ssehub-sqlite (1/4)')
    for (let i = 1; i <= 20; i++) {
      advance(300)
      step.update(i * 50, { phase: 'subscribe', total: 1000, detail: '0 failed, a long detail' })
    }
    step.end()
    for (const frame of screenLines(out.text)) assert.ok([...frame].length <= 31, frame)
  })

  it('clears the bar for a logged line and draws it again below', () => {
    const { progress, out, log, advance } = setup(true, { color: false })
    const step = progress.begin('idle · raw-node (1/1)', { total: 10 })
    advance(300)
    step.update(3)
    const before = out.writes.length
    progress.log('    300 subscribers in 80 ms')
    assert.equal(out.writes[before], '\r\x1b[K')
    assert.deepEqual(log.writes, ['    300 subscribers in 80 ms\n'])
    assert.match(out.writes[before + 1] as string, /^\ridle · raw-node \(1\/1\)/)
  })

  it('colours the bar unless NO_COLOR is set', () => {
    const colored = setup(true, { env: {} })
    colored.progress.begin('a', { total: 4 }).update(2)
    assert.ok(colored.out.text.includes(`${ESC}[36m`))
    const plain = setup(true, { env: { NO_COLOR: '1' } })
    plain.progress.begin('a', { total: 4 }).update(2)
    assert.doesNotMatch(plain.out.text, SGR)
    assert.ok(plain.out.text.includes('\r'), 'still redrawn in place')
  })
})

describe('createProgress elsewhere (a pipe, a CI log)', () => {
  it('writes plain lines at start, per tenth (at most one a second), every 10 s and at the end', () => {
    const { progress, out, advance } = setup(false)
    const step = progress.begin('latency · nchan (3/4)')
    // 100 s of updates every 10 ms: 10,000 updates.
    for (let i = 1; i <= 10_000; i++) {
      advance(10)
      step.update(i, { phase: 'latency', total: 10_000 })
    }
    step.end()
    const text = out.text
    assert.ok(!text.includes(ESC) && !text.includes('\r'), text)
    const lines = text.split('\n').slice(0, -1)
    assert.equal(lines[0], '[latency · nchan (3/4)] started')
    assert.match(lines.at(-1) as string, /^\[latency · nchan \(3\/4\)\] done in 100\.0 s$/)
    // Start, phase, at most one line per tenth and per 10 s, end: far from one per update.
    assert.ok(lines.length <= 2 + 10 + 10 + 1, `${lines.length} lines`)
    assert.ok(
      lines.some((line) => / 50 % 5,000\/10,000 100\/s ETA 0:50$/.test(line)),
      text,
    )
  })

  it('does not print a line per tenth when a step passes them all within a second', () => {
    const { progress, out, advance } = setup(false)
    const step = progress.begin('catch-up · raw-node (1/1)', { phase: 'catch-up', total: 100 })
    for (let i = 1; i <= 100; i++) {
      advance(5)
      step.update(i)
    }
    step.end()
    assert.equal(out.text.split('\n').length - 1, 2, out.text)
  })

  it('prints a line for each new phase, and every 10 s for a step without a total', () => {
    const { progress, out, advance } = setup(false)
    const step = progress.begin('soak sqlite', { unit: 'time' })
    for (let t = 1; t <= 60; t++) {
      advance(1000)
      step.update(t * 1000, { phase: t <= 30 ? 'load' : 'history', total: null })
    }
    const lines = out.text.split('\n').slice(0, -1)
    assert.deepEqual(
      lines.map((line) => line.replace(/ \d+:\d\d$/, '')),
      [
        '[soak sqlite] started',
        '[soak sqlite] load',
        '[soak sqlite] load',
        '[soak sqlite] load',
        '[soak sqlite] history',
        '[soak sqlite] history',
        '[soak sqlite] history',
      ],
    )
  })
})

describe('createProgress, quiet', () => {
  it('draws nothing but still prints logged lines', () => {
    const { progress, out, log } = setup(true, { quiet: true })
    const step = progress.begin('fan-out · nchan (1/1)', { total: 2 })
    step.update(1)
    progress.log('a line')
    step.end()
    progress.close()
    assert.deepEqual(out.writes, [])
    assert.deepEqual(log.writes, ['a line\n'])
  })
})

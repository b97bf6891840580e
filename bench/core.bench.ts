// Core wire-format benchmark: encoder and parser throughput.
//
//   npm run bench:core            (= node --import tsx bench/core.bench.ts)
//
// Measures, for 100-byte and 10-KB events (id + event + one data line each):
// - encode: formatEvent (event object → string) and encodeEvent (→ UTF-8 bytes);
// - parse: our createParser against eventsource-parser's createParser on the SAME input, a few MB
//   of concatenated encoded events cut into 16 KiB chunks, in two ways:
//   - "bytes": raw chunks, decoding included for both (ours decodes internally; eventsource-parser
//     gets each chunk through one TextDecoder with { stream: true }, as TextDecoderStream does);
//   - "strings": the chunks decoded once outside the timing, the same strings fed to both.
// Every figure is the median of several timed runs after warm-up; the parsers alternate runs so
// machine drift hits both alike. MB = 10^6 bytes of encoded input. Runs in well under a minute.

import { createRequire } from 'node:module'
import { createParser as createReferenceParser } from 'eventsource-parser'
import { encodeEvent, formatEvent, type SseEvent } from '../src/core/encode.ts'
import { createParser } from '../src/core/parse.ts'

const CHUNK_SIZE = 16 * 1024
const TARGET_BYTES = 8_000_000
const WARMUP_RUNS = 5
const TIMED_RUNS = 31
const referenceVersion = (
  createRequire(import.meta.url)('eventsource-parser/package.json') as {
    version: string
  }
).version

interface Sink {
  events: number
  chars: number
}

function makeEvents(eventBytes: number): SseEvent[] {
  const events: SseEvent[] = []
  let total = 0
  for (let i = 0; total < TARGET_BYTES; i++) {
    const head = formatEvent({ id: String(i), event: 'update', data: '' }).length
    const filler = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(Math.ceil(eventBytes / 36))
    const json = `{"seq":${i},"text":"${filler}`.slice(0, Math.max(0, eventBytes - head - 2))
    const event = { id: String(i), event: 'update', data: `${json}"}` }
    events.push(event)
    total += formatEvent(event).length
  }
  return events
}

function chunk(bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = []
  for (let i = 0; i < bytes.length; i += CHUNK_SIZE) chunks.push(bytes.subarray(i, i + CHUNK_SIZE))
  return chunks
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[sorted.length >> 1] as number
}

/** Runs the named jobs alternately; returns each one's median time in ms. */
function measure(jobs: Record<string, () => void>): Record<string, number> {
  const names = Object.keys(jobs)
  const samples: Record<string, number[]> = {}
  for (const name of names) samples[name] = []
  for (let run = 0; run < WARMUP_RUNS + TIMED_RUNS; run++) {
    for (const name of names) {
      const start = performance.now()
      jobs[name]?.()
      const elapsed = performance.now() - start
      if (run >= WARMUP_RUNS) samples[name]?.push(elapsed)
    }
  }
  const result: Record<string, number> = {}
  for (const name of names) result[name] = median(samples[name] ?? [])
  return result
}

const rows: string[][] = []
const rate = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(0)
const perSecond = (count: number, ms: number) =>
  Math.round(count / (ms / 1000)).toLocaleString('en')

for (const size of [100, 10_000]) {
  const label = size === 100 ? '100 B' : '10 KB'
  const events = makeEvents(size)
  const wire = events.map(formatEvent).join('')
  const bytes = new TextEncoder().encode(wire)
  const chunks = chunk(bytes)
  const decoder = new TextDecoder()
  const strings = chunks.map((c) => decoder.decode(c, { stream: true }))

  let encodedLength = 0
  const encode = measure({
    formatEvent() {
      for (const event of events) encodedLength += formatEvent(event).length
    },
    encodeEvent() {
      for (const event of events) encodedLength += encodeEvent(event).length
    },
  })
  for (const name of ['formatEvent', 'encodeEvent']) {
    const ms = encode[name] ?? Number.NaN
    rows.push([
      `encode ${name}`,
      label,
      rate(bytes.length, ms),
      perSecond(events.length, ms),
      '',
      '',
      '',
    ])
  }

  const sinks: Record<string, Sink> = {}
  const ours = (input: readonly (Uint8Array | string)[], sink: Sink) => () => {
    const parser = createParser({
      onEvent(message) {
        sink.events++
        sink.chars += message.data.length
      },
    })
    for (const piece of input) parser.feed(piece)
    parser.end()
  }
  const reference = (input: readonly (Uint8Array | string)[], sink: Sink) => () => {
    const parser = createReferenceParser({
      onEvent(message) {
        sink.events++
        sink.chars += message.data.length
      },
    })
    const streamDecoder = new TextDecoder()
    for (const piece of input) {
      parser.feed(typeof piece === 'string' ? piece : streamDecoder.decode(piece, { stream: true }))
    }
  }
  const jobs: Record<string, () => void> = {}
  for (const [mode, input] of [
    ['bytes', chunks],
    ['strings', strings],
  ] as const) {
    for (const [who, make] of [
      ['ours', ours],
      ['reference', reference],
    ] as const) {
      const sink = { events: 0, chars: 0 }
      sinks[`${mode} ${who}`] = sink
      jobs[`${mode} ${who}`] = make(input, sink)
    }
  }
  const parse = measure(jobs)
  for (const mode of ['bytes', 'strings']) {
    const a = sinks[`${mode} ours`]
    const b = sinks[`${mode} reference`]
    if (a === undefined || b === undefined || a.events !== b.events || a.chars !== b.chars) {
      throw new Error(`parsers disagree on ${label} ${mode}: ${JSON.stringify([a, b])}`)
    }
    const oursMs = parse[`${mode} ours`] ?? Number.NaN
    const refMs = parse[`${mode} reference`] ?? Number.NaN
    rows.push([
      `parse ${mode}`,
      label,
      rate(bytes.length, oursMs),
      perSecond(events.length, oursMs),
      rate(bytes.length, refMs),
      perSecond(events.length, refMs),
      `${(refMs / oursMs).toFixed(2)}x`,
    ])
  }
  if (encodedLength === 0) throw new Error('nothing encoded')
}

const header = [
  'benchmark',
  'event',
  'ours MB/s',
  'ours events/s',
  'e-p MB/s',
  'e-p events/s',
  'ours/e-p',
]
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i] ?? 0)).join('  ')
console.log(
  `Node ${process.version}, eventsource-parser ${referenceVersion}, ` +
    `${TARGET_BYTES / 1e6} MB per event size in ${CHUNK_SIZE / 1024} KiB chunks, ` +
    `median of ${TIMED_RUNS} timed runs`,
)
console.log('parse bytes: UTF-8 decoding included for both; parse strings: decoded beforehand')
console.log('e-p = eventsource-parser; ours/e-p = throughput ratio (>1 means ours is faster)\n')
console.log(line(header))
console.log(line(widths.map((w) => '-'.repeat(w))))
for (const row of rows) console.log(line(row))

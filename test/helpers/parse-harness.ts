import assert from 'node:assert/strict'
import { createParser, type ParserOptions, type SseMessage } from '../../src/core/parse.ts'

// Shared by the parser's tests: vectors are run whole, one byte at a time and split at random
// points, as bytes, because chunk boundaries are where incremental parsers break.

export const utf8 = new TextEncoder()

export interface Outcome {
  events: SseMessage[]
  retries: number[]
  comments: string[]
  errors: string[]
  lastEventId: string
}

export type Expected = Partial<Outcome> & Pick<Outcome, 'events'>

/** A message as a browser's MessageEvent would carry it. */
export function msg(data: string, type = 'message', lastEventId = ''): SseMessage {
  return { type, data, lastEventId }
}

export function bytesOf(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? utf8.encode(input) : input
}

export function concat(...parts: (string | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (typeof p === 'string' ? utf8.encode(p) : Uint8Array.from(p)))
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0))
  let offset = 0
  for (const a of arrays) {
    out.set(a, offset)
    offset += a.length
  }
  return out
}

/** mulberry32: a small deterministic PRNG, so a failing split can be replayed from its seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export type Split = (bytes: Uint8Array) => Uint8Array[]

export const whole: Split = (bytes) => [bytes]
export const bytewise: Split = (bytes) => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))
export function randomSplit(seed: number): Split {
  return (bytes) => {
    const random = prng(seed)
    const largest = Math.max(2, Math.floor(bytes.length / 3))
    const chunks: Uint8Array[] = []
    for (let i = 0; i < bytes.length; ) {
      // Now and then an empty chunk: feeding nothing must change nothing.
      if (random() < 0.05) chunks.push(bytes.subarray(i, i))
      const size = 1 + Math.floor(random() * largest)
      chunks.push(bytes.subarray(i, i + size))
      i += size
    }
    return chunks
  }
}

export const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 42, 1337]
export const MODES: [string, Split][] = [
  ['whole', whole],
  ['one byte at a time', bytewise],
  ...SEEDS.map((seed): [string, Split] => [`random split (seed ${seed})`, randomSplit(seed)]),
]

/** Parses `streams` (one connection each, `end()` after each) with every chunk in `chunks`. */
export function parse(streams: Uint8Array[][], options: ParserOptions = {}): Outcome {
  const outcome: Outcome = { events: [], retries: [], comments: [], errors: [], lastEventId: '' }
  const parser = createParser({
    ...options,
    onEvent: (m) => outcome.events.push(m),
    onRetry: (ms) => outcome.retries.push(ms),
    onComment: (text) => outcome.comments.push(text),
    onError: (error) => outcome.errors.push(error.code),
  })
  for (const chunks of streams) {
    for (const chunk of chunks) parser.feed(chunk)
    parser.end()
  }
  outcome.lastEventId = parser.lastEventId
  return outcome
}

/**
 * Runs one vector whole, one byte at a time and split at random points, as bytes. Each element of
 * `streams` is one connection's body; the parser is `end()`ed after each, as on a reconnect.
 * Compares `events` always, and the other outcome fields only where `expected` names them.
 */
export function check(
  streams: (string | Uint8Array)[],
  expected: Expected,
  options: ParserOptions = {},
): void {
  const bodies = streams.map(bytesOf)
  for (const [mode, split] of MODES) {
    const outcome = parse(bodies.map(split), options)
    const actual: Partial<Outcome> = {}
    for (const key of Object.keys(expected) as (keyof Outcome)[]) {
      Object.assign(actual, { [key]: outcome[key] })
    }
    assert.deepEqual(actual, expected, `fed ${mode}`)
  }
}

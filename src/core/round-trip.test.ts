import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { encodeComment, encodeEvent, formatEvent, formatRetry, type SseEvent } from './encode.ts'
import { SseError } from './errors.ts'
import { createParser, type SseMessage } from './parse.ts'

const RUNS = { numRuns: 1000 }

// Characters that matter to the wire format or to UTF-8, weighted up so that nearly every
// generated string contains some: line breaks, NUL, the Unicode separators SSE does NOT treat as
// line breaks, BOM, field-looking text, astral characters and lone surrogates.
const specials = [
  '\r',
  '\n',
  '\r\n',
  '\0',
  '\u2028',
  '\u2029',
  '\u0085',
  '\uFEFF',
  ':',
  ' ',
  'data: ',
  'id: ',
  'event: ',
  'retry: 1',
  '😀',
  '\uD83D', // lone high surrogate
  '\uDE00', // lone low surrogate
  '\uDFFF',
  'é',
  '€',
]
const unit = fc.oneof(
  { arbitrary: fc.constantFrom(...specials), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 1 },
  { arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }), weight: 1 },
)
const text = fc.string({ unit, maxLength: 30 })
const eventType = text.map((s) => s.replace(/[\r\n]/g, ''))
const eventId = text.map((s) => s.replace(/[\r\n\0]/g, ''))
const breakChar = fc.constantFrom('\r', '\n', '\r\n')

const event: fc.Arbitrary<SseEvent> = fc.record(
  { data: text, event: eventType, id: eventId, retry: fc.nat() },
  { requiredKeys: [] },
)
/** Cut points into a byte array, as fractions so they fit any length. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 })

/** What UTF-8 does to a JS string: each lone surrogate becomes U+FFFD (`String#toWellFormed`). */
function wellFormed(s: string): string {
  return s.replace(/\p{Surrogate}/gu, '\uFFFD')
}

/** What SSE does to data: every line break arrives as LF. */
function lines(s: string): string {
  return s.replace(/\r\n|\r/g, '\n')
}

function split(bytes: Uint8Array, fractions: number[]): Uint8Array[] {
  const points = fractions.map((f) => Math.floor(f * bytes.length)).sort((a, b) => a - b)
  const chunks: Uint8Array[] = []
  let from = 0
  for (const point of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, point))
    from = point
  }
  return chunks
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

interface Parsed {
  events: SseMessage[]
  retries: number[]
  comments: string[]
}

function parseAll(chunks: (Uint8Array | string)[]): Parsed {
  const parsed: Parsed = { events: [], retries: [], comments: [] }
  const parser = createParser({
    onEvent: (m) => parsed.events.push(m),
    onRetry: (ms) => parsed.retries.push(ms),
    onComment: (c) => parsed.comments.push(c),
    onError: (error) => assert.fail(error),
  })
  for (const chunk of chunks) parser.feed(chunk)
  parser.end()
  return parsed
}

/** The messages a browser would see for `events`, sent as UTF-8 bytes. */
function expectedMessages(events: SseEvent[], convert: (s: string) => string): Parsed {
  const expected: Parsed = { events: [], retries: [], comments: [] }
  let lastEventId = ''
  for (const e of events) {
    if (e.id !== undefined) lastEventId = convert(e.id)
    if (e.retry !== undefined) expected.retries.push(e.retry)
    if (e.data !== undefined) {
      const type = e.event === undefined || e.event === '' ? 'message' : convert(e.event)
      expected.events.push({ type, data: lines(convert(e.data)), lastEventId })
    }
  }
  return expected
}

describe('parse(encode(event))', () => {
  it('gives back the event, fed whole as bytes', () => {
    fc.assert(
      fc.property(event, (e) => {
        assert.deepEqual(parseAll([encodeEvent(e)]), expectedMessages([e], wellFormed))
      }),
      RUNS,
    )
  })

  it('gives back the event, split at random byte positions', () => {
    fc.assert(
      fc.property(event, cuts, (e, at) => {
        assert.deepEqual(parseAll(split(encodeEvent(e), at)), expectedMessages([e], wellFormed))
      }),
      RUNS,
    )
  })

  it('gives back the event with lone surrogates intact when fed as a string', () => {
    fc.assert(
      fc.property(event, (e) => {
        assert.deepEqual(
          parseAll([formatEvent(e)]),
          expectedMessages([e], (s) => s),
        )
      }),
      RUNS,
    )
  })

  it('gives back a sequence of events, with lastEventId carried forward', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 10 }), cuts, (events, at) => {
        const bytes = concat(events.map((e) => encodeEvent(e)))
        assert.deepEqual(parseAll(split(bytes, at)), expectedMessages(events, wellFormed))
      }),
      RUNS,
    )
  })

  it('keeps data one event of type message, whatever the data contains', () => {
    fc.assert(
      fc.property(text, cuts, (data, at) => {
        const parsed = parseAll(split(encodeEvent({ data }), at))
        assert.deepEqual(parsed, {
          events: [{ type: 'message', data: lines(wellFormed(data)), lastEventId: '' }],
          retries: [],
          comments: [],
        })
      }),
      RUNS,
    )
  })

  it('keeps a comment a comment, whatever its text contains', () => {
    fc.assert(
      fc.property(text, (comment) => {
        const parsed = parseAll([encodeComment(comment)])
        assert.deepEqual(parsed.events, [])
        assert.deepEqual(parsed.retries, [])
        // formatComment writes `: line` for each line, and `:` alone for an empty text.
        const expected =
          comment === ''
            ? ['']
            : lines(wellFormed(comment))
                .split('\n')
                .map((line) => ` ${line}`)
        assert.deepEqual(parsed.comments, expected)
      }),
      RUNS,
    )
  })
})

describe('formatEvent: refusing values that would change the stream', () => {
  const withBreak = (chars: fc.Arbitrary<string>) =>
    fc.tuple(text, chars, text).map(([before, bad, after]) => before + bad + after)

  function assertInvalidField(fn: () => unknown): void {
    assert.throws(fn, (error: unknown) => {
      assert.ok(error instanceof SseError)
      assert.equal(error.code, 'invalid-field')
      return true
    })
  }

  it('throws invalid-field for an event type containing CR or LF', () => {
    fc.assert(
      fc.property(withBreak(breakChar), fc.option(text, { nil: undefined }), (type, data) => {
        assertInvalidField(() =>
          formatEvent(data === undefined ? { event: type } : { event: type, data }),
        )
      }),
      RUNS,
    )
  })

  it('throws invalid-field for an id containing CR, LF or NUL', () => {
    fc.assert(
      fc.property(withBreak(fc.constantFrom('\r', '\n', '\r\n', '\0')), (id) => {
        assertInvalidField(() => formatEvent({ id, data: 'x' }))
      }),
      RUNS,
    )
  })

  it('throws invalid-field for a retry that is negative, fractional or not finite', () => {
    const badRetry = fc.oneof(
      fc.integer({ max: -1 }),
      fc.double().filter((n) => !(Number.isSafeInteger(n) && n >= 0)),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0.5, -0.5),
      fc.constantFrom(Number.MAX_SAFE_INTEGER + 1, 2 ** 64),
    )
    fc.assert(
      fc.property(badRetry, (retry) => {
        assertInvalidField(() => formatEvent({ retry }))
        assertInvalidField(() => formatRetry(retry))
      }),
      RUNS,
    )
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SseError } from './errors.ts'
import { createParser, type ParserOptions, type SseMessage } from './parse.ts'

// Vectors marked "WPT n" are sse-spec.md §4.3 row n (web-platform-tests eventsource/).

const utf8 = new TextEncoder()

interface Outcome {
  events: SseMessage[]
  retries: number[]
  comments: string[]
  errors: string[]
  lastEventId: string
}

type Expected = Partial<Outcome> & Pick<Outcome, 'events'>

/** A message as a browser's MessageEvent would carry it. */
function msg(data: string, type = 'message', lastEventId = ''): SseMessage {
  return { type, data, lastEventId }
}

function bytesOf(input: string | Uint8Array): Uint8Array {
  return typeof input === 'string' ? utf8.encode(input) : input
}

function concat(...parts: (string | number[])[]): Uint8Array {
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
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Split = (bytes: Uint8Array) => Uint8Array[]

const whole: Split = (bytes) => [bytes]
const bytewise: Split = (bytes) => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))
function randomSplit(seed: number): Split {
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

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8, 42, 1337]
const MODES: [string, Split][] = [
  ['whole', whole],
  ['one byte at a time', bytewise],
  ...SEEDS.map((seed): [string, Split] => [`random split (seed ${seed})`, randomSplit(seed)]),
]

/** Parses `streams` (one connection each, `end()` after each) with every chunk in `chunks`. */
function parse(streams: Uint8Array[][], options: ParserOptions = {}): Outcome {
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
function check(
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

describe('createParser: WPT vectors (sse-spec.md §4.3)', () => {
  it('strips one leading BOM and keeps a later one in the field name (WPT 1, format-bom)', () => {
    check(['\uFEFFdata:1\n\n\uFEFFdata:2\n\ndata:3\n\n\n'], { events: [msg('1'), msg('3')] })
  })

  it('strips only the first of two leading BOMs (WPT 2, format-bom-2)', () => {
    check(['\uFEFF\uFEFFdata:1\n\ndata:2\n\ndata:3\n\n\n'], { events: [msg('2'), msg('3')] })
  })

  it('ignores comments of any length and any line ending (WPT 3, format-comments)', () => {
    const long = 'x'.repeat(2048)
    const body = `data:1\r:\0\n:\r\ndata:2\n:${long}\rdata:3\n:data:fail\r:${long}\ndata:4\n\n`
    check([body], {
      events: [msg('1\n2\n3\n4')],
      comments: ['\0', '', long, 'data:fail', long],
    })
  })

  it('discards an unterminated event and its id at end of stream (WPT 4)', () => {
    const body = 'retry:1000\ndata:test1\n\nid:test\ndata:test2\n'
    check([body, body], {
      events: [msg('test1'), msg('test1')],
      retries: [1000, 1000],
      lastEventId: '',
    })
  })

  it('treats a bare `data` as an empty value (WPT 5, format-field-data)', () => {
    check(['data:\n\ndata\ndata\n\ndata:test\n\n\n'], {
      events: [msg(''), msg('\n'), msg('test')],
    })
  })

  it('sets the type from `event` for one event only (WPT 6, format-field-event)', () => {
    check(['event:test\ndata:x\n\ndata:x\n\n\n'], { events: [msg('x', 'test'), msg('x')] })
  })

  it('uses `message` for an empty event type (WPT 7, format-field-event-empty)', () => {
    check(['event: \ndata:data\n\n\n'], { events: [msg('data')] })
  })

  it('parses fields literally: one space stripped, case-sensitive names (WPT 8)', () => {
    const body =
      'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n\n'
    check([body], { events: [msg('\0\n 2\n1\n3\n\n4')] })
  })

  it('ignores unknown fields, space-prefixed lines and comments (WPT 9)', () => {
    const body =
      'data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test\n\n\n'
    check([body], { events: [msg('test\n\ntest')], comments: ['thisisacommentyay'] })
  })

  it('strips a leading space but not a tab (WPT 10, format-leading-space)', () => {
    check(['data:\ttest\rdata: \ndata:test\n\n\n'], { events: [msg('\ttest\n\ntest')] })
  })

  it('accepts CRLF, LF and CR line endings (WPT 11, format-newlines)', () => {
    check(['data:test\r\ndata\ndata:test\r\n\r\n'], { events: [msg('test\n\ntest')] })
  })

  it('delivers NUL in data (WPT 12, format-null-character)', () => {
    check(['data:\0\n\n\n\n'], { events: [msg('\0')] })
  })

  it('decodes UTF-8 whatever charset is claimed (WPT 13, format-utf-8)', () => {
    check([concat('data:ok', [0xe2, 0x80, 0xa6], '\n\n\n')], { events: [msg('ok…')] })
  })

  it('reads retry in base ten, not octal (WPT 14, format-field-retry)', () => {
    check(['retry:03000\ndata:x\n\n\n'], { events: [msg('x')], retries: [3000] })
  })

  it('ignores a bogus retry and keeps the last good one (WPT 15)', () => {
    check(['retry:3000\nretry:1000x\ndata:x\n\n\n'], { events: [msg('x')], retries: [3000] })
  })

  it('ignores an empty retry (WPT 16, format-field-retry-empty)', () => {
    check(['retry\ndata:test\n\n\n'], { events: [msg('test')], retries: [] })
  })

  it('joins data lines and skips false fields (WPT 20, event-data / message2.py)', () => {
    const body =
      'data:msg\ndata: msg\n\n:\nfalsefield:msg\n\nfalsefield:msg\nData:data\n\ndata\n\ndata:end\n\n'
    check([body], { events: [msg('msg\nmsg'), msg(''), msg('end')] })
  })

  it('keeps the last event ID for events without an id (WPT 21, format-field-id-3)', () => {
    check(['id: 1\ndata: 1\n\ndata:2\n\n'], {
      events: [msg('1', 'message', '1'), msg('2', 'message', '1')],
    })
  })

  it('replaces the last event ID with a later id (WPT 22)', () => {
    check(['id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n'], {
      events: [msg('1', 'message', '1'), msg('2', 'message', '2'), msg('3', 'message', '2')],
    })
  })

  it('resets the last event ID with an empty id (WPT 23)', () => {
    check(['id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n'], {
      events: [msg('1', 'message', '1'), msg('2'), msg('3')],
      lastEventId: '',
    })
  })

  it('keeps a non-ASCII last event ID across reconnections (WPT 24, format-field-id-2)', () => {
    const second = 'data: …\n\n'
    check(['id: …\nretry: 200\ndata: hello\n\n', second, second], {
      events: [msg('hello', 'message', '…'), msg('…', 'message', '…'), msg('…', 'message', '…')],
      retries: [200],
      lastEventId: '…',
    })
  })

  for (const idValue of ['\0\0', 'x\0', '\0x', 'x\0x', ' \0']) {
    it(`ignores an id containing NUL: ${JSON.stringify(idValue)} (WPT 25)`, () => {
      const body = `id: ${idValue}\nretry: 200\ndata: hello\n\n`
      check([body, body], {
        events: [msg('hello'), msg('hello')],
        retries: [200, 200],
        lastEventId: '',
      })
    })
  }

  it('dispatches on CR CR, LF LF and CRLF CRLF (WPT 33, fromReadableStream)', () => {
    check(['data: cr\r\rdata: lf\n\ndata: crlf\r\n\r\n'], {
      events: [msg('cr'), msg('lf'), msg('crlf')],
    })
  })

  it('reassembles a field split over chunks (WPT 34)', () => {
    const outcome = parse([['da', 'ta: hel', 'lo\n\n'].map((s) => utf8.encode(s))])
    assert.deepEqual(outcome.events, [msg('hello')])
    check(['data: hello\n\n'], { events: [msg('hello')] })
  })

  it('keeps lastEventId across streams (WPT 34)', () => {
    check(['id: 42\ndata: first\n\n', 'data: after-reconnect\n\n'], {
      events: [msg('first', 'message', '42'), msg('after-reconnect', 'message', '42')],
      lastEventId: '42',
    })
  })

  it('reports a valid retry and ignores a bogus one (WPT 34)', () => {
    check(['retry: 5000\ndata: hello\n\n'], { events: [msg('hello')], retries: [5000] })
    check(['retry: bogus\ndata: hello\n\n'], { events: [msg('hello')], retries: [] })
  })

  it('strips a BOM sent as bytes EF BB BF (WPT 34)', () => {
    check([concat([0xef, 0xbb, 0xbf], 'data: hello\n\n')], { events: [msg('hello')] })
  })
})

describe('createParser: the standard’s own examples', () => {
  it('discards a final block that never ends', () => {
    check(['data\n\ndata\ndata\n\ndata:'], { events: [msg(''), msg('\n')] })
  })

  it('treats `data:test` and `data: test` alike', () => {
    check(['data:test\n\ndata: test\n\n'], { events: [msg('test'), msg('test')] })
  })

  it('joins several data lines with LF', () => {
    check(['data: YHOO\ndata: +2\ndata: 10\n\n'], { events: [msg('YHOO\n+2\n10')] })
  })

  it('sets, keeps and clears the id as in the stock-ticker example', () => {
    const body =
      ': test stream\n\ndata: first event\nid: 1\n\ndata:second event\nid\n\ndata:  third event\n\n'
    check([body], {
      events: [msg('first event', 'message', '1'), msg('second event'), msg(' third event')],
      comments: [' test stream'],
    })
  })

  it('resets the type after a type-only block', () => {
    check(['event: foo\n\ndata: x\n\n'], { events: [msg('x')] })
  })
})

describe('createParser: retry', () => {
  it('accepts `retry: 1000`', () => {
    check(['retry: 1000\n\n'], { events: [], retries: [1000] })
  })

  for (const value of ['1000 ', '-1', '1.5', '  1000', '', '1e3', '+1', '0x10', '１']) {
    it(`ignores retry:${JSON.stringify(value)}`, () => {
      check([`retry:${value}\ndata: x\n\n`], { events: [msg('x')], retries: [] })
    })
  }

  it('matches the field name case-sensitively', () => {
    check(['Retry: 1000\nRETRY: 1000\nretry : 1000\n\n'], { events: [], retries: [] })
  })

  it('takes effect at once, without waiting for a dispatch', () => {
    const retries: number[] = []
    const parser = createParser({ onRetry: (ms) => retries.push(ms) })
    parser.feed('retry: 250\r')
    assert.deepEqual(retries, [250])
  })
})

describe('createParser: line endings across chunks', () => {
  it('takes a CR ending one chunk and an LF opening the next as one line end', () => {
    const events: SseMessage[] = []
    const parser = createParser({ onEvent: (m) => events.push(m) })
    parser.feed('data: a\r')
    parser.feed('\ndata: b\r')
    parser.feed('\n\r')
    parser.feed('\n')
    assert.deepEqual(events, [msg('a\nb')])
  })

  it('dispatches on a CR that ends a chunk without waiting for the next chunk', () => {
    const events: SseMessage[] = []
    const parser = createParser({ onEvent: (m) => events.push(m) })
    parser.feed('data: a\r\r')
    assert.deepEqual(events, [msg('a')])
    parser.feed('\ndata: b\n\n')
    assert.deepEqual(events, [msg('a'), msg('b')])
  })

  it('keeps the pending CR across empty chunks', () => {
    const events: SseMessage[] = []
    const parser = createParser({ onEvent: (m) => events.push(m) })
    parser.feed(utf8.encode('data: a\r'))
    parser.feed(new Uint8Array(0))
    parser.feed('')
    parser.feed(utf8.encode('\ndata: b\n\n'))
    assert.deepEqual(events, [msg('a\nb')])
  })

  it('handles long runs of mixed terminators in one chunk', () => {
    const body = `${'data: a\r\ndata: b\rdata: c\n\r\n'.repeat(200)}: tail\r`
    check([body], { events: Array.from({ length: 200 }, () => msg('a\nb\nc')) })
  })
})

describe('createParser: UTF-8 decoding', () => {
  for (const [label, char] of [
    ['a 2-byte', 'é'],
    ['a 3-byte', '€'],
    ['a 4-byte', '😀'],
  ] as const) {
    it(`reassembles ${label} character split at every byte boundary`, () => {
      const bytes = utf8.encode(`data: <${char}>\n\n`)
      const start = 7 // after 'data: <'
      const width = utf8.encode(char).length
      for (let cut = start + 1; cut < start + width; cut++) {
        const outcome = parse([[bytes.subarray(0, cut), bytes.subarray(cut)]])
        assert.deepEqual(outcome.events, [msg(`<${char}>`)], `cut at byte ${cut}`)
      }
      check([bytes], { events: [msg(`<${char}>`)] })
    })
  }

  it('replaces invalid UTF-8 with U+FFFD', () => {
    // FF is never valid; C3 then LF is a truncated sequence; ED A0 80 is an encoded surrogate.
    const body = concat('data: ', [0xff], ' ', [0xc3], '\ndata: ', [0xed, 0xa0, 0x80], '!\n\n')
    check([body], { events: [msg('\uFFFD \uFFFD\n\uFFFD\uFFFD\uFFFD!')] })
  })

  it('drops an incomplete character left at end of stream', () => {
    check([concat('data: x\n\n', [0xe2, 0x82])], { events: [msg('x')] })
  })

  it('turns an incomplete character into U+FFFD when a string is fed next', () => {
    const events: SseMessage[] = []
    const parser = createParser({ onEvent: (m) => events.push(m) })
    parser.feed(concat('data: ', [0xe2, 0x82]))
    parser.feed('!\n\n')
    assert.deepEqual(events, [msg('\uFFFD!')])
  })

  it('strips a BOM whose three bytes arrive in separate chunks', () => {
    const body = concat([0xef, 0xbb, 0xbf], 'data: x\n\n')
    for (const cuts of [
      [1, 2, 3],
      [1, 3],
      [2, 3],
      [2, 4],
      [1, 5],
    ]) {
      const chunks: Uint8Array[] = []
      let from = 0
      for (const cut of [...cuts, body.length]) {
        chunks.push(body.subarray(from, cut))
        from = cut
      }
      assert.deepEqual(parse([chunks]).events, [msg('x')], `cuts ${cuts.join(',')}`)
    }
  })

  it('keeps a second BOM, which makes its line an unknown field', () => {
    check([concat([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], 'data: x\n\ndata: y\n\n')], {
      events: [msg('y')],
    })
  })

  it('strips one leading U+FEFF from strings too', () => {
    const cases: [string[], SseMessage[]][] = [
      [['\uFEFFdata: x\n\n'], [msg('x')]],
      [['', '\uFEFF', 'data: x\n\n'], [msg('x')]],
      [['\uFEFF\uFEFFdata: x\n\n'], []],
    ]
    for (const [chunks, expected] of cases) {
      const events: SseMessage[] = []
      const parser = createParser({ onEvent: (m) => events.push(m) })
      for (const chunk of chunks) parser.feed(chunk)
      assert.deepEqual(events, expected, JSON.stringify(chunks))
    }
  })

  it('strips a BOM again at the start of the next stream', () => {
    const body = '\uFEFFdata: x\n\n'
    check([body, body], { events: [msg('x'), msg('x')] })
  })

  it('does not strip a BOM that is not at the start of the stream', () => {
    check([':\n\uFEFFdata: x\n\n'], { events: [] })
  })
})

describe('createParser: last event ID', () => {
  it('starts from the lastEventId option', () => {
    check(
      ['data: x\n\n'],
      { events: [msg('x', 'message', '7')], lastEventId: '7' },
      { lastEventId: '7' },
    )
  })

  it('updates lastEventId from an id-only block, which dispatches nothing', () => {
    check(['id: 9\n\n'], { events: [], lastEventId: '9' })
  })

  it('commits the id only when its block is dispatched', () => {
    const parser = createParser({})
    parser.feed('id: 3\n')
    assert.equal(parser.lastEventId, '')
    parser.feed('\n')
    assert.equal(parser.lastEventId, '3')
  })

  it('keeps lastEventId through end() and reset()', () => {
    const parser = createParser({})
    parser.feed('id: 5\n\nid: 6\n')
    parser.end()
    assert.equal(parser.lastEventId, '5')
    parser.feed('id: 7\n')
    parser.reset()
    assert.equal(parser.lastEventId, '5')
  })
})

describe('createParser: comments', () => {
  it('passes the raw text after the colon, leading space included', () => {
    check([': ping\n:\n::x\n:  two\n\n'], { events: [], comments: [' ping', '', ':x', '  two'] })
  })
})

describe('createParser: end()', () => {
  it('discards a partial event', () => {
    check(['event: e\nid: 1\ndata: x\n', '\ndata: y\n\n'], { events: [msg('y')], lastEventId: '' })
  })

  it('discards an unterminated line', () => {
    check(['data: x', '\n\n'], { events: [] })
  })
})

describe('createParser: maxLineLength', () => {
  const limit = 64 * 1024

  it('accepts a line of exactly maxLineLength characters', () => {
    const line = `data:${'x'.repeat(95)}` // 100 characters
    check([`${line}\n\n`], { events: [msg('x'.repeat(95))], errors: [] }, { maxLineLength: 100 })
  })

  it('rejects a longer line, terminated or not, and dispatches nothing after it', () => {
    const line = `data:${'x'.repeat(96)}` // 101 characters
    check(
      ['data: ok\n\n', `${line}\n\ndata: later\n\n`],
      {
        events: [msg('ok')],
        errors: ['line-too-long'],
      },
      { maxLineLength: 100 },
    )
  })

  it('reports one SseError for 10 MB without a newline, holding at most maxLineLength', () => {
    const chunk = 'x'.repeat(16 * 1024)
    const errors: unknown[] = []
    let errorAtChunk = -1
    const events: SseMessage[] = []
    const parser = createParser({
      maxLineLength: limit,
      onEvent: (m) => events.push(m),
      onError: (error) => errors.push(error),
    })
    const chunks = Math.ceil(10_000_000 / chunk.length)
    for (let i = 0; i < chunks; i++) {
      parser.feed(i % 2 === 0 ? chunk : utf8.encode(chunk))
      if (errors.length === 1 && errorAtChunk === -1) errorAtChunk = i
    }
    assert.equal(errors.length, 1)
    assert.ok(errors[0] instanceof SseError)
    assert.equal((errors[0] as SseError).code, 'line-too-long')
    // The error comes with the first chunk that takes the line past the limit: nothing more
    // than maxLineLength characters was ever held.
    assert.equal(errorAtChunk, limit / chunk.length)
    assert.deepEqual(events, [])

    parser.feed('\n\ndata: ignored\n\n')
    assert.deepEqual(events, [], 'input is ignored until reset()')
    parser.reset()
    parser.feed('data: ok\n\n')
    assert.deepEqual(events, [msg('ok')])
    assert.equal(errors.length, 1)
  })

  it('stays stopped after end(), unlike after reset()', () => {
    const outcome: SseMessage[] = []
    const parser = createParser({ maxLineLength: 10, onEvent: (m) => outcome.push(m) })
    parser.feed('data: 0123456789\n\n')
    parser.end()
    parser.feed('data: a\n\n')
    assert.deepEqual(outcome, [])
    parser.reset()
    parser.feed('data: a\n\n')
    assert.deepEqual(outcome, [msg('a')])
  })

  it('rejects a maxLineLength that is not a positive integer', () => {
    for (const maxLineLength of [0, -1, 1.5, Number.NaN]) {
      assert.throws(() => createParser({ maxLineLength }), RangeError)
    }
    assert.doesNotThrow(() => createParser({ maxLineLength: Number.POSITIVE_INFINITY }))
  })

  it('rejects a function in place of the options object', () => {
    const misuse = createParser as unknown as (f: () => void) => unknown
    assert.throws(() => misuse(() => {}), /Did you mean createParser\(\{ onEvent: fn \}\)/)
  })
})

describe('createParser: long lines', () => {
  it('joins a long line streamed in many small chunks', () => {
    const payload = 'y'.repeat(200_000)
    const events: SseMessage[] = []
    const parser = createParser({ onEvent: (m) => events.push(m) })
    const body = `data: ${payload}\n\n`
    for (let i = 0; i < body.length; i += 7) parser.feed(body.slice(i, i + 7))
    assert.equal(events.length, 1)
    assert.equal(events[0]?.data, payload)
  })
})

/**
 * The standard's parsing steps transliterated as plainly as possible, on the whole decoded body:
 * the oracle for the property test below. `TextDecoder` without `ignoreBOM` is the standard's
 * "UTF-8 decode", which strips one leading BOM.
 */
function referenceParse(body: Uint8Array): Omit<Outcome, 'errors'> {
  const outcome: Omit<Outcome, 'errors'> = {
    events: [],
    retries: [],
    comments: [],
    lastEventId: '',
  }
  const lines = new TextDecoder().decode(body).split(/\r\n|\r|\n/)
  lines.pop() // the text after the last line end is an incomplete line: discarded at end of file
  let data = ''
  let type = ''
  let idBuffer = ''
  for (const line of lines) {
    if (line === '') {
      outcome.lastEventId = idBuffer
      if (data === '') {
        type = ''
        continue
      }
      if (data.endsWith('\n')) data = data.slice(0, -1)
      outcome.events.push(msg(data, type === '' ? 'message' : type, idBuffer))
      data = ''
      type = ''
    } else if (line.startsWith(':')) {
      outcome.comments.push(line.slice(1))
    } else {
      const colon = line.indexOf(':')
      const field = colon === -1 ? line : line.slice(0, colon)
      let value = colon === -1 ? '' : line.slice(colon + 1)
      if (value.startsWith(' ')) value = value.slice(1)
      if (field === 'event') type = value
      else if (field === 'data') data += `${value}\n`
      else if (field === 'id' && !value.includes('\0')) idBuffer = value
      else if (field === 'retry' && /^[0-9]+$/.test(value)) outcome.retries.push(Number(value))
    }
  }
  return outcome
}

describe('createParser: against a plain reading of the standard', () => {
  const token = fc.constantFrom(
    ...['data', 'event', 'id', 'retry', ':', ' ', '\r', '\n', '\r\n', '\n\n', '0', '7', 'x'].map(
      (t) => utf8.encode(t),
    ),
    ...['\0', '\uFEFF', 'é', '€', '😀', 'data: ', 'id: ', 'retry: 1'].map((t) => utf8.encode(t)),
    Uint8Array.of(0xff), // never valid in UTF-8
    Uint8Array.of(0xe2, 0x82), // a truncated 3-byte sequence
    Uint8Array.of(0xf0, 0x9f), // a truncated 4-byte sequence
    Uint8Array.of(0xc3), // a truncated 2-byte sequence
  )
  const body = fc
    .array(token, { maxLength: 60 })
    .map((parts) => concat(...parts.map((p) => [...p])))
  const cuts = fc.array(fc.nat(), { maxLength: 10 })

  it('agrees with it on arbitrary bytes split at arbitrary points', () => {
    fc.assert(
      fc.property(body, cuts, (bytes, at) => {
        const points = at.map((n) => n % (bytes.length + 1)).sort((a, b) => a - b)
        const chunks: Uint8Array[] = []
        let from = 0
        for (const point of [...points, bytes.length]) {
          chunks.push(bytes.subarray(from, point))
          from = point
        }
        const { errors, ...outcome } = parse([chunks])
        assert.deepEqual(errors, [])
        assert.deepEqual(outcome, referenceParse(bytes))
      }),
      { numRuns: 2000 },
    )
  })
})

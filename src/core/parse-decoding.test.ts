import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { check, concat, msg, type Outcome, parse, utf8 } from '../../test/helpers/parse-harness.ts'
import { SseError } from './errors.ts'
import { createParser, type SseMessage } from './parse.ts'

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

describe('createParser: maxEventLength', () => {
  it('accepts an event whose data is exactly maxEventLength characters', () => {
    // Three lines of 3 plus two LFs between them: 11 characters.
    check(
      ['data: abc\ndata: def\ndata: ghi\n\n'],
      { events: [msg('abc\ndef\nghi')], errors: [] },
      {
        maxEventLength: 11,
      },
    )
  })

  it('stops at an event of endless short data lines, whatever the chunking', () => {
    check(
      ['data: ok\n\n', 'data: abc\ndata: def\ndata: ghij\n\ndata: later\n\n'],
      { events: [msg('ok')], errors: ['event-too-large'] },
      { maxEventLength: 11 },
    )
  })

  it('works again after reset()', () => {
    const events: SseMessage[] = []
    const errors: string[] = []
    const parser = createParser({
      maxEventLength: 100,
      onEvent: (m) => events.push(m),
      onError: (e) => errors.push(e.code),
    })
    for (let i = 0; i < 1000; i++) parser.feed('data: xxxxxxxxxx\n')
    assert.deepEqual(errors, ['event-too-large'])
    parser.feed('\n')
    assert.equal(events.length, 0)
    parser.reset()
    parser.feed('data: again\n\n')
    assert.deepEqual(events, [msg('again')])
  })

  it('refuses a limit that is not a positive integer or Infinity', () => {
    assert.throws(() => createParser({ maxEventLength: 0 }), RangeError)
    assert.doesNotThrow(() => createParser({ maxEventLength: Infinity }))
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

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  encodeComment,
  encodeEvent,
  formatComment,
  formatEvent,
  formatRetry,
  type SseEvent,
} from './encode.ts'
import { SseError } from './errors.ts'

const utf8 = new TextEncoder()

function assertInvalidField(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof SseError)
    assert.equal(error.code, 'invalid-field')
    assert.equal(error.name, 'SseError')
    assert.match(error.message, message)
    return true
  })
}

describe('formatEvent', () => {
  it('writes a data-only event as one data line and a blank line', () => {
    assert.equal(formatEvent({ data: 'hello' }), 'data: hello\n\n')
  })

  it('writes id, event, retry and data in that order', () => {
    assert.equal(
      formatEvent({ data: 'x', retry: 1500, event: 'update', id: '42' }),
      'id: 42\nevent: update\nretry: 1500\ndata: x\n\n',
    )
  })

  it('writes an empty data field for empty data', () => {
    assert.equal(formatEvent({ data: '' }), 'data: \n\n')
  })

  it('writes only the blank line for an empty event', () => {
    assert.equal(formatEvent({}), '\n')
  })

  it('writes an id-only event, which moves the client’s last event ID without a message', () => {
    assert.equal(formatEvent({ id: '' }), 'id: \n\n')
    assert.equal(formatEvent({ id: '7' }), 'id: 7\n\n')
  })

  it('gives a trailing newline its own empty data line', () => {
    assert.equal(formatEvent({ data: 'x\n' }), 'data: x\ndata: \n\n')
  })

  it('starts a data line after every CRLF, CR and LF', () => {
    assert.equal(formatEvent({ data: 'a\r\nb\rc\nd' }), 'data: a\ndata: b\ndata: c\ndata: d\n\n')
    assert.equal(formatEvent({ data: '\r\r\n\n' }), 'data: \ndata: \ndata: \ndata: \n\n')
  })

  it('keeps leading spaces, colons and field-like text inside the data value', () => {
    assert.equal(formatEvent({ data: ' x: id: 1' }), 'data:  x: id: 1\n\n')
    assert.equal(formatEvent({ data: 'a\nid: evil' }), 'data: a\ndata: id: evil\n\n')
  })

  it('does not treat U+2028, U+2029 or NEL as line breaks', () => {
    assert.equal(
      formatEvent({ data: 'a\u2028b\u2029c\u0085d' }),
      'data: a\u2028b\u2029c\u0085d\n\n',
    )
  })

  it('keeps NUL in data and in the event type', () => {
    assert.equal(formatEvent({ data: '\0', event: 'a\0b' }), 'event: a\0b\ndata: \0\n\n')
  })

  it('accepts retry 0 and the largest safe integer', () => {
    assert.equal(formatEvent({ retry: 0 }), 'retry: 0\n\n')
    assert.equal(
      formatEvent({ retry: Number.MAX_SAFE_INTEGER }),
      `retry: ${Number.MAX_SAFE_INTEGER}\n\n`,
    )
  })

  it('rejects CR or LF in the event type', () => {
    for (const event of ['a\rb', 'a\nb', '\r\n', 'x\n']) {
      assertInvalidField(() => formatEvent({ event, data: 'x' }), /Event type/)
    }
  })

  it('rejects CR, LF or NUL in the id', () => {
    for (const id of ['1\r', '1\n', '1\r\nevent: evil', 'a\0b']) {
      assertInvalidField(() => formatEvent({ id, data: 'x' }), /Event id/)
    }
  })

  it('rejects a retry that is negative, fractional, not finite or unsafe', () => {
    for (const retry of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      assertInvalidField(() => formatEvent({ retry }), /Retry/)
    }
  })
})

describe('formatComment', () => {
  it('writes the shortest comment for no text', () => {
    assert.equal(formatComment(), ':\n')
    assert.equal(formatComment(''), ':\n')
  })

  it('writes one comment line', () => {
    assert.equal(formatComment('keep-alive'), ': keep-alive\n')
  })

  it('gives every line of a multi-line text its own colon', () => {
    assert.equal(formatComment('a\nb\r\nc\rd'), ': a\n: b\n: c\n: d\n')
    assert.equal(formatComment('a\n\ndata: evil'), ': a\n: \n: data: evil\n')
  })
})

describe('formatRetry', () => {
  it('writes a retry field and a blank line', () => {
    assert.equal(formatRetry(3000), 'retry: 3000\n\n')
  })

  it('rejects a retry that is not a non-negative integer', () => {
    for (const retry of [-1, 0.1, Number.NaN]) assertInvalidField(() => formatRetry(retry), /Retry/)
  })
})

describe('encodeEvent and encodeComment', () => {
  const events: SseEvent[] = [
    { data: 'hello' },
    { id: '…', event: 'größe', data: '😀\n€', retry: 10 },
    { data: 'lone \uD800 surrogate' },
    {},
  ]

  it('return the UTF-8 bytes of formatEvent', () => {
    for (const event of events) {
      assert.deepEqual(encodeEvent(event), utf8.encode(formatEvent(event)))
    }
  })

  it('turn a lone surrogate into the bytes of U+FFFD', () => {
    assert.deepEqual(encodeEvent({ data: '\uD800' }), utf8.encode('data: \uFFFD\n\n'))
  })

  it('return the UTF-8 bytes of formatComment', () => {
    for (const text of [undefined, '', 'ping', 'a\nb', '…']) {
      assert.deepEqual(encodeComment(text), utf8.encode(formatComment(text)))
    }
  })

  it('throw like formatEvent', () => {
    assertInvalidField(() => encodeEvent({ id: '\n' }), /Event id/)
  })
})

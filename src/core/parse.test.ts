import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { check, concat, msg, parse, utf8 } from '../../test/helpers/parse-harness.ts'
import { createParser, type SseMessage } from './parse.ts'

// Vectors marked "WPT n" are sse-spec.md §4.3 row n (web-platform-tests eventsource/).

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

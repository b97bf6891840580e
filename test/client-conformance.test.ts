// The client against web-platform-tests' eventsource/ behaviour (../shared/docs/sse-spec.md §4.2
// "Client state machine", vectors of §4.3), served by a loopback fixture.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { SseClientOptions } from '../src/client/index.ts'
import type { LoggedEvent } from './helpers/client-log.ts'
import {
  assertEvents,
  CLOSED,
  CONNECTING,
  type Expected,
  firstStream,
  OPEN,
  open,
  quietPeriod,
  server,
  useWptServers,
} from './helpers/wpt-clients.ts'

useWptServers()

describe('SseClient against the WPT format vectors, end to end', () => {
  const longstring = 'x'.repeat(2048)
  const vectors: Array<[string, Record<string, string>, Expected[], string[]?]> = [
    [
      'strips one leading BOM and ignores a line after a second one (format-bom)',
      { message: '\uFEFFdata:1\n\n\uFEFFdata:2\n\ndata:3' },
      [{ data: '1' }, { data: '3' }],
    ],
    [
      'strips only the first of two leading BOMs (format-bom-2)',
      { message: '\uFEFF\uFEFFdata:1\n\ndata:2\n\ndata:3' },
      [{ data: '2' }, { data: '3' }],
    ],
    [
      'ignores comments, whatever their terminator and length (format-comments)',
      {
        message: `data:1\r:\0\n:\r\ndata:2\n:${longstring}\rdata:3\n:data:fail\r:${longstring}\ndata:4\n`,
        newline: 'none',
      },
      [{ data: '1\n2\n3\n4' }],
    ],
    [
      'appends an empty line for a bare or empty data field (format-field-data)',
      { message: 'data:\n\ndata\ndata\n\ndata:test' },
      [{ data: '' }, { data: '\n' }, { data: 'test' }],
    ],
    [
      'gives an event its type and resets it after dispatch (format-field-event)',
      { message: 'event:test\ndata:x\n\ndata:x' },
      [{ type: 'test', data: 'x' }, { data: 'x' }],
      ['test'],
    ],
    [
      'dispatches an empty event type as message (format-field-event-empty)',
      { message: 'event: \ndata:data' },
      [{ data: 'data' }],
    ],
    [
      'compares field names literally and removes only one leading space (format-field-parsing)',
      {
        message:
          'data:\0\ndata:  2\rData:1\ndata\0:2\ndata:1\r\0data:4\nda-ta:3\rdata_5\ndata:3\rdata:\r\n data:32\ndata:4\n',
        newline: 'none',
      },
      [{ data: '\0\n 2\n1\n3\n\n4' }],
    ],
    [
      'ignores unknown fields and lines without a known name (format-field-unknown)',
      {
        message: 'data:test\n data\ndata\nfoobar:xxx\njustsometext\n:thisisacommentyay\ndata:test',
      },
      [{ data: 'test\n\ntest' }],
    ],
    [
      'keeps a tab and trailing spaces after the one removed space (format-leading-space)',
      { message: 'data:\ttest\rdata: \ndata:test' },
      [{ data: '\ttest\n\ntest' }],
    ],
    [
      'accepts CRLF, LF and CR line endings (format-newlines)',
      { message: 'data:test\r\ndata\ndata:test\r\n\r', newline: 'none' },
      [{ data: 'test\n\ntest' }],
    ],
    [
      'delivers a NUL inside data (format-null-character)',
      { message: 'data:\0\n\n' },
      [{ data: '\0' }],
    ],
    [
      'decodes UTF-8 whatever the charset parameter says (format-utf-8)',
      { mime: 'text/event-stream;charset=windows-1252', message: 'data:ok…' },
      [{ data: 'ok…' }],
    ],
    [
      'accepts a Content-Type with a trailing semicolon (format-mime-trailing-semicolon)',
      { mime: 'text/event-stream;', message: 'data: data' },
      [{ data: 'data' }],
    ],
    [
      'discards a final block without its blank line (spec example)',
      { message: 'data\n\ndata\ndata\n\ndata:', newline: 'none' },
      [{ data: '' }, { data: '\n' }],
    ],
    [
      'resets the type after a block with a type and no data (spec example)',
      { message: 'event: foo\n\ndata: x' },
      [{ data: 'x' }],
      ['foo'],
    ],
  ]
  for (const [name, params, expected, types] of vectors) {
    it(name, async () => {
      assertEvents(await firstStream(server.url('/message', params), types), expected)
    })
  }

  it('skips false fields and joins data lines (event-data, message2.py)', async () => {
    const events = await firstStream(server.url('/message2'))
    assertEvents(events, [{ data: 'msg\nmsg' }, { data: '' }, { data: 'end' }])
  })

  const ids: Array<[string, string[]]> = [
    ['1', ['1', '1']],
    ['2', ['1', '2', '2']],
    ['3', ['1', '', '']],
  ]
  for (const [type, expected] of ids) {
    it(`keeps the last event id until an id field changes it (last-event-id2.py type=${type})`, async () => {
      const events = await firstStream(server.url('/last-event-id2', { type }))
      assert.deepEqual(
        events.map((event) => event.lastEventId),
        expected,
      )
    })
  }

  it('sets origin to the origin of the stream', async () => {
    const [event] = await firstStream(server.url('/message', { message: 'data: x' }))
    assert.equal(event?.origin, server.base)
  })
})

describe('SseClient reconnection (eventsource-reconnect, reconnect-fail)', () => {
  it('reconnects after a stream that only set retry, and gets the message (vector 26)', async () => {
    const { client, log } = open(server.url('/status-reconnect', { status: '200', id: 'v26' }))
    await log.waitFor('message')
    client.close()
    assert.deepEqual(
      log.events.map((event) => [event.type, event.readyState]),
      [
        ['open', OPEN],
        ['error', CONNECTING],
        ['open', OPEN],
        ['message', OPEN],
      ],
    )
    assert.equal(log.of('message')[0]?.data, 'data')
  })

  it('fires error with readyState CONNECTING between the two streams (vector 27)', async () => {
    const url = server.url('/status-reconnect', { status: '200', ok_first: '', id: 'v27' })
    const { client, log } = open(url)
    await log.waitFor('message', 2)
    client.close()
    const seen = log.events
      .filter((event) => event.type !== 'open')
      .map((event) => [event.type, event.data ?? event.readyState])
    assert.deepEqual(seen, [
      ['message', 'ok'],
      ['error', CONNECTING],
      ['message', 'data'],
    ])
  })

  it('reconnects, then stops for good on 204, with no event after (vector 28)', async () => {
    const { client, log } = open(server.url('/reconnect-fail', { id: 'v28' }))
    await log.until((events) => events.at(-1)?.readyState === CLOSED)
    await quietPeriod(100)
    const seen = log.events
      .filter((event) => event.type !== 'open')
      .map((event) => [event.type, event.data ?? event.readyState])
    assert.deepEqual(seen, [
      ['message', 'opened'],
      ['error', CONNECTING],
      ['message', 'reconnected'],
      ['error', CONNECTING],
      ['error', CLOSED],
    ])
    assert.equal(log.events.at(-1)?.code, 'no-content')
    assert.equal(log.events.at(-1)?.status, 204)
    assert.equal(client.readyState, CLOSED)
    assert.equal(server.hits('/reconnect-fail').length, 3)
  })

  it('does not commit the id of an event cut off by the end of the stream (vector 4)', async () => {
    // The vector's retry is 1000 ms; 200 keeps the test quick and changes nothing else.
    const message = 'retry:200\ndata:test1\n\nid:test\ndata:test2'
    const url = server.url('/message', { message, newline: 'none', tag: 'v4' })
    const { client, log } = open(url)
    await log.waitFor('message', 2)
    client.close()
    assertEvents(log.of('message'), [{ data: 'test1' }, { data: 'test1' }])
    const [, second] = server.requests.filter((r) => r.params.get('tag')?.toString() === 'v4')
    assert.equal(second?.lastEventId, null, 'no Last-Event-ID on the reconnection')
  })

  it('reconnects after a network error, with an error event first', async () => {
    const { client, log } = open(server.url('/drop', { data: 'd1' }), { initialRetryMs: 10 })
    await log.waitFor('message', 2)
    client.close()
    const error = log.of('error')[0]
    assert.equal(error?.code, 'network-error')
    assert.equal(error?.readyState, CONNECTING)
    assert.deepEqual(log.data(), ['d1', 'd1'])
  })
})

describe('SseClient failing the connection', () => {
  // The vector's 503 is left out: SseClient departs from the standard there (below).
  for (const status of ['204', '205', '210', '299', '404', '410']) {
    it(`closes on status ${status} with one error and no reconnection (request-status-error)`, async () => {
      const { client, log } = open(server.url('/status-error', { status, tag: `s${status}` }), {
        initialRetryMs: 10,
      })
      await log.waitFor('error')
      await quietPeriod(100)
      assert.deepEqual(
        log.events.map((event) => [event.type, event.readyState, event.status]),
        [['error', CLOSED, Number(status)]],
      )
      assert.equal(log.events[0]?.code, status === '204' ? 'no-content' : 'http-status')
      assert.equal(client.readyState, CLOSED)
      const tagged = server.requests.filter((r) => r.params.get('tag')?.toString() === `s${status}`)
      assert.equal(tagged.length, 1, 'no second request')
    })
  }

  it('departs from request-status-error on 503: an error event, CONNECTING, and a reconnection', async () => {
    // EventSource fails the connection on 503; SseClient retries 429, 502, 503 and 504 (a hub
    // restarting or over a budget says "not now", not "never": docs/hub.md).
    const { client, log } = open(server.url('/status-error', { status: '503', tag: 's503' }), {
      initialRetryMs: 10,
    })
    await log.waitFor('error', 2)
    client.close()
    const errors = log.of('error')
    assert.deepEqual(
      errors.slice(0, 2).map((event) => [event.readyState, event.status, event.code]),
      [
        [CONNECTING, 503, 'http-status'],
        [CONNECTING, 503, 'http-status'],
      ],
    )
    const tagged = server.requests.filter((r) => r.params.get('tag')?.toString() === 's503')
    assert.ok(tagged.length >= 2, `${tagged.length} requests`)
  })

  for (const [vector, mime] of [
    ['format-mime-valid-bogus', 'text/x-bogus'],
    ['format-mime-bogus', 'x bogus'],
  ] as const) {
    it(`closes on Content-Type ${JSON.stringify(mime)} with a plain error event (${vector})`, async () => {
      const tag = `mime-${vector}`
      const url = server.url('/message', { mime, message: 'data: data', tag })
      const errors: Event[] = []
      const { client, log } = open(url, { initialRetryMs: 10 })
      client.onerror = (event) => errors.push(event)
      await log.waitFor('error')
      await quietPeriod(100)
      assert.deepEqual(
        log.events.map((event) => [event.type, event.readyState, event.code]),
        [['error', CLOSED, 'bad-content-type']],
      )
      assert.equal(errors[0]?.bubbles, false)
      assert.equal(errors[0]?.cancelable, false)
      assert.equal(server.requests.filter((r) => r.params.get('tag')?.toString() === tag).length, 1)
    })
  }
})

describe('SseClient and Last-Event-ID', () => {
  it('sends the id as UTF-8 on each reconnection and gets it back (format-field-id, -2)', async () => {
    const { client, log } = open(server.url('/last-event-id'))
    await log.waitFor('message', 3)
    client.close()
    assertEvents(log.of('message'), [
      { data: 'hello', lastEventId: '…' },
      { data: '…', lastEventId: '…' },
      { data: '…', lastEventId: '…' },
    ])
    const sent = server.hits('/last-event-id').map((r) => r.lastEventId?.toString('hex') ?? null)
    assert.deepEqual(sent.slice(0, 3), [null, 'e280a6', 'e280a6'])
  })

  for (const idvalue of ['\0\0', 'x\0', '\0x', 'x\0x', ' \0']) {
    it(`ignores an id containing NUL: ${JSON.stringify(idvalue)} (format-field-id-null)`, async () => {
      const tag = `null-${JSON.stringify(idvalue)}`
      const { client, log } = open(server.url('/last-event-id', { idvalue, tag }))
      await log.waitFor('message', 2)
      client.close()
      assertEvents(log.of('message'), [{ data: 'hello' }, { data: 'hello' }])
      const tagged = server.requests.filter((r) => r.params.get('tag')?.toString() === tag)
      assert.equal(tagged[1]?.lastEventId, null, 'no Last-Event-ID sent')
    })
  }

  it('sends the lastEventId option on the first connection', async () => {
    const { client, log } = open(server.url('/echo', { header: 'last-event-id' }), {
      lastEventId: 'résumé-42',
    })
    await log.waitFor('message')
    client.close()
    // The fixture echoes the header's bytes; the client reads them back as UTF-8.
    assert.equal(log.of('message')[0]?.data, 'résumé-42')
    assert.equal(client.lastEventId, 'résumé-42')
  })
})

describe('SseClient reconnection time (format-field-retry*)', () => {
  // The vectors use 3000 ms; 300 ms keeps the suite quick. Jitter is off, so the first
  // reconnection waits exactly the reconnection time; ±25% absorbs timer and loopback slack.
  async function reconnectionDelay(params: Record<string, string>, options: SseClientOptions = {}) {
    const tag = `retry-${Math.random()}`
    const { client, log } = open(server.url('/message', { ...params, tag }), options)
    await log.waitFor('open', 2)
    client.close()
    const ended = log.of('error')[0] as LoggedEvent
    const [, second] = server.requests.filter((r) => r.params.get('tag')?.toString() === tag)
    return (second?.at ?? Number.NaN) - ended.at
  }
  const within25 = (delay: number, expected: number): void => {
    assert.ok(
      delay >= expected * 0.75 && delay <= expected * 1.25,
      `reconnected after ${delay.toFixed(0)} ms, expected ${expected} ± 25%`,
    )
  }

  it('waits the retry field read in base ten, leading zero and all (vector 14)', async () => {
    within25(await reconnectionDelay({ message: 'retry:0300\ndata:x' }), 300)
  })

  it('ignores a retry that is not only digits (vector 15)', async () => {
    within25(await reconnectionDelay({ message: 'retry:300\nretry:100x\ndata:x' }), 300)
  })

  it('ignores an empty retry and keeps the reconnection time (vector 16)', async () => {
    within25(await reconnectionDelay({ message: 'retry\ndata:test' }, { initialRetryMs: 300 }), 300)
  })
})

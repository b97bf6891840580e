// The client against web-platform-tests' eventsource/ behaviour (../shared/docs/sse-spec.md §4.2
// "Client state machine", vectors of §4.3), served by a loopback fixture.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SseClient, type SseClientOptions } from '../src/client/index.ts'
import { type ClientLog, type LoggedEvent, logClient } from './helpers/client-log.ts'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'
import { sleep } from './helpers/raw-sse.ts'
import { startWptServer, type WptServer } from './helpers/wpt-server.ts'

const CONNECTING = 0
const OPEN = 1
const CLOSED = 2

/** What a vector expects of one server event. */
interface Expected {
  data: string
  type?: string
  lastEventId?: string
}

let server: WptServer
/** A second fixture on another port: another origin, for redirects. */
let other: WptServer
const clients = new Set<SseClient>()

before(async () => {
  ;[server, other] = await Promise.all([startWptServer(), startWptServer()])
})
after(async () => {
  for (const client of clients) client.close()
  await Promise.all([server.close(), other.close()])
})

/** A client that the suite closes in the end; no jitter, so delays can be measured. */
function open(url: string, options: SseClientOptions = {}, types: string[] = []) {
  const client = new SseClient(url, { jitter: false, ...options })
  clients.add(client)
  return { client, log: logClient(client, types) }
}

/** The server events of the first connection: everything logged before its stream ended. */
async function firstStream(url: string, types: string[] = []): Promise<LoggedEvent[]> {
  const { client, log } = open(url, { initialRetryMs: 60_000 }, types)
  await log.waitFor('error')
  client.close()
  const [opened, ...rest] = log.events
  assert.equal(opened?.type, 'open')
  const end = rest.at(-1)
  assert.equal(end?.type, 'error')
  assert.equal(end?.readyState, CONNECTING, 'the end of the body means a reconnection')
  return rest.slice(0, -1)
}

function assertEvents(events: LoggedEvent[], expected: Expected[]): void {
  assert.deepEqual(
    events.map(({ type, data, lastEventId }) => ({ type, data, lastEventId })),
    expected.map(({ type = 'message', data, lastEventId = '' }) => ({ type, data, lastEventId })),
  )
}

/** Waits until `ms` milliseconds pass, for asserting that something does *not* happen. */
const quietPeriod = (ms: number): Promise<void> => sleep(ms)

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
  for (const status of ['204', '205', '210', '299', '404', '410', '503']) {
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

describe('SseClient redirects (request-redirect)', () => {
  for (const status of ['301', '302', '303', '307', '308']) {
    it(`follows a ${status} and reports the final origin`, async () => {
      const target = other.url('/message', { message: `data: via ${status}` })
      const { client, log } = open(server.url('/redirect', { status, location: target }))
      await log.waitFor('message')
      client.close()
      assert.deepEqual(
        log.events.map((event) => [event.type, event.readyState]),
        [
          ['open', OPEN],
          ['message', OPEN],
        ],
      )
      assert.equal(log.of('message')[0]?.data, `via ${status}`)
      assert.equal(log.of('message')[0]?.origin, other.base)
    })
  }

  it('reconnects to the URL it was given, not to where it was redirected', async () => {
    const target = other.url('/message', { message: 'data: moved', tag: 'redirect-again' })
    const url = server.url('/redirect', { status: '307', location: target, tag: 'again' })
    const { client, log } = open(url, { initialRetryMs: 10 })
    await log.waitFor('message', 2)
    client.close()
    const redirects = server
      .hits('/redirect')
      .filter((r) => r.params.get('tag')?.toString() === 'again')
    assert.equal(redirects.length, 2)
  })
})

describe('SseClient#close', () => {
  it('during CONNECTING means no event at all', async () => {
    const url = server.url('/message', {
      message: 'data: late',
      sleep: '200',
      tag: 'close-connecting',
    })
    const { client, log } = open(url)
    await server.waitForHits('/message', 1)
    assert.equal(client.readyState, CONNECTING)
    client.close()
    assert.equal(client.readyState, CLOSED)
    await quietPeriod(400)
    assert.deepEqual(log.events, [])
  })

  it('during OPEN means no further event, even from the chunk being read', async () => {
    const url = server.url('/message', { message: 'data:1\n\ndata:2\n\ndata:3' })
    const { client, log } = open(url, { initialRetryMs: 10 })
    client.onmessage = () => client.close()
    await log.waitFor('message')
    await quietPeriod(100)
    assert.deepEqual(
      log.events.map((event) => event.type),
      ['open', 'message'],
    )
    assert.equal(client.readyState, CLOSED)
  })

  it('during a wait for reconnection cancels it', async () => {
    const tag = 'close-waiting'
    const { client, log } = open(server.url('/message', { message: 'data: x', tag }), {
      initialRetryMs: 100,
    })
    await log.waitFor('error')
    client.close()
    await quietPeriod(250)
    assert.equal(server.requests.filter((r) => r.params.get('tag')?.toString() === tag).length, 1)
    assert.equal(log.of('error').length, 1)
  })
})

describe('SseClient requests', () => {
  it('sends Accept: text/event-stream (request-accept)', async () => {
    const [event] = await firstStream(server.url('/echo', { header: 'accept' }))
    assert.equal(event?.data, 'text/event-stream')
  })

  it('sends Cache-Control: no-cache (request-cache-control)', async () => {
    const [event] = await firstStream(server.url('/echo', { header: 'cache-control' }))
    assert.equal(event?.data, 'no-cache')
  })

  it('calls the headers callback before every connection and sends its latest token', async () => {
    let issued = 0
    const { client, log } = open(server.url('/echo', { header: 'authorization' }), {
      initialRetryMs: 10,
      headers: async () => {
        await sleep(1)
        issued++
        return { authorization: `Bearer token-${issued}` }
      },
    })
    await log.waitFor('message', 3)
    client.close()
    assert.deepEqual(log.data().slice(0, 3), ['Bearer token-1', 'Bearer token-2', 'Bearer token-3'])
  })

  it('retries with backoff when the headers callback fails, and recovers', async () => {
    let calls = 0
    const { client, log } = open(server.url('/echo', { header: 'authorization' }), {
      initialRetryMs: 10,
      headers: () => {
        calls++
        if (calls === 1) throw new Error('token endpoint down')
        return { authorization: 'Bearer fresh' }
      },
    })
    await log.waitFor('message')
    client.close()
    assert.deepEqual(
      log.events.slice(0, 3).map((event) => [event.type, event.code ?? event.data]),
      [
        ['error', 'headers-failed'],
        ['open', undefined],
        ['message', 'Bearer fresh'],
      ],
    )
  })
})

describe('SseClient inactivity watchdog', () => {
  it('reconnects a stream silent for longer than inactivityTimeoutMs', async () => {
    const tag = 'silent'
    const { client, log } = open(server.url('/silent', { tag }), {
      inactivityTimeoutMs: 200,
      initialRetryMs: 10,
    })
    await log.waitFor('open', 2)
    client.close()
    const error = log.of('error')[0]
    assert.equal(error?.code, 'inactivity-timeout')
    assert.equal(error?.readyState, CONNECTING)
    const [opened] = log.of('open')
    within(error, opened, 200)
  })

  it('counts heartbeat comments as activity', async () => {
    const { client, log } = open(server.url('/silent', { comment: '50', tag: 'heartbeat' }), {
      inactivityTimeoutMs: 400,
    })
    await log.waitFor('open')
    await quietPeriod(1000)
    client.close()
    assert.deepEqual(log.of('error'), [])
  })

  it('gives up on a response that does not come', async () => {
    const url = server.url('/message', { message: 'data: slow', sleep: '2000', tag: 'hang' })
    const { client, log } = open(url, { inactivityTimeoutMs: 150, initialRetryMs: 10_000 })
    await log.waitFor('error')
    client.close()
    assert.equal(log.events[0]?.code, 'inactivity-timeout')
  })
})

/** Asserts `later` fired about `ms` after `earlier` (at least `ms`, at most twice it). */
function within(later: LoggedEvent | undefined, earlier: LoggedEvent | undefined, ms: number) {
  const elapsed = (later?.at ?? Number.NaN) - (earlier?.at ?? Number.NaN)
  assert.ok(elapsed >= ms * 0.9 && elapsed <= ms * 2, `fired after ${elapsed} ms, expected ~${ms}`)
}

describe('SseClient gap detection against an ssehub hub', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub()
  })
  after(() => hub.close())

  async function subscribe(
    topic: string,
    lastEventId: string,
  ): Promise<ClientLog & { client: SseClient }> {
    const { client, log } = open(hub.hubUrl, { topics: [topic], lastEventId })
    return Object.assign(log, { client })
  }

  it('fires gap after open when the hub does not know the id resumed from', async () => {
    const topic = 'https://example.com/gap/unknown'
    await hub.publishOk({ topic, data: 'missed' })
    const log = await subscribe(topic, 'urn:uuid:not-in-history')
    await log.waitFor('gap')
    assert.deepEqual(
      log.events.map((event) => event.type),
      ['open', 'gap'],
    )
    assert.equal(log.of('gap')[0]?.requestedId, 'urn:uuid:not-in-history')
    assert.equal(log.of('gap')[0]?.hubLastEventId, 'earliest')
    await hub.publishOk({ topic, data: 'live' })
    await log.waitFor('message')
    assert.deepEqual(log.data(), ['live'], 'nothing replayed, live updates follow')
    log.client.close()
  })

  it('fires no gap when the hub resumes from the id, a UTF-8 one included', async () => {
    const topic = 'https://example.com/gap/known'
    await hub.publishOk({ topic, data: 'first', id: 'résumé-1' })
    await hub.publishOk({ topic, data: 'second', id: 'résumé-2' })
    const log = await subscribe(topic, 'résumé-1')
    await log.waitFor('message')
    log.client.close()
    assert.deepEqual(log.of('gap'), [])
    assert.deepEqual(log.data(), ['second'])
    assert.equal(log.client.lastEventId, 'résumé-2')
  })

  it('fires no gap for a first connection or for earliest', async () => {
    const topic = 'https://example.com/gap/none'
    await hub.publishOk({ topic, data: 'kept' })
    const fromStart = await subscribe(topic, 'earliest')
    const fresh = await subscribe(topic, '')
    await fresh.waitFor('open')
    await hub.publishOk({ topic, data: 'live' })
    await Promise.all([fromStart.waitFor('message', 2), fresh.waitFor('message')])
    fromStart.client.close()
    fresh.client.close()
    assert.deepEqual(fromStart.of('gap'), [])
    assert.deepEqual(fromStart.data(), ['kept', 'live'])
    assert.deepEqual(fresh.of('gap'), [])
    assert.deepEqual(fresh.data(), ['live'])
  })
})

describe('SseClient with an ssehub hub that ends streams', () => {
  let hub: TestHub
  before(async () => {
    // Streams end after 240–300 ms (lifetime randomized to 80–100 %); heartbeats every 50 ms.
    hub = await startTestHub({ maxLifetimeMs: 300 }, { heartbeatMs: 50 })
  })
  after(() => hub.close())

  it('resumes after each lifetime end with every update once, in order, and no gap', async () => {
    const topic = 'https://example.com/lifetime'
    const { client, log } = open(hub.hubUrl, {
      topics: [topic],
      // A cursor from the start: without one, a stream that ends before its first event is
      // resumed with no Last-Event-ID, and what was published meanwhile is not replayed.
      // `earliest` on a fresh topic is "everything", i.e. nothing yet.
      lastEventId: 'earliest',
      initialRetryMs: 10,
      // Streams live less than a second here; let each count as healthy so the backoff stays low.
      healthyAfterMs: 100,
      // 20 heartbeats' worth: a slow first response or a stalled event loop is no false alarm.
      inactivityTimeoutMs: 1000,
    })
    await log.waitFor('open')
    const sent: string[] = []
    // About 1.5 s of updates: the hub ends a stream at most ~0.8 s after it opens (its deadline
    // sweep closes early, never late), so several streams carry them.
    for (let i = 0; i < 60; i++) {
      sent.push(`update ${i}`)
      await hub.publishOk({ topic, data: `update ${i}` })
      await sleep(25)
    }
    await log.waitFor('message', sent.length, 10_000)
    client.close()
    assert.deepEqual(log.data(), sent)
    const errors = log.of('error')
    assert.ok(errors.length >= 1, `${errors.length} lifetime ends during the run`)
    assert.ok(
      errors.every((event) => event.code === 'stream-ended'),
      'streams ended cleanly; the heartbeat kept the watchdog quiet',
    )
    assert.deepEqual(log.of('gap'), [])
  })
})

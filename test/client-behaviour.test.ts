// The client against web-platform-tests' eventsource/ behaviour, continued from
// client-conformance.test.ts: redirects, close(), requests, the watchdog, and the client against
// a real hub (gap detection, streams the hub ends).
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { SseClient } from '../src/client/index.ts'
import type { ClientLog } from './helpers/client-log.ts'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'
import { sleep } from './helpers/raw-sse.ts'
import {
  CLOSED,
  CONNECTING,
  firstStream,
  OPEN,
  open,
  other,
  quietPeriod,
  server,
  useWptServers,
  within,
} from './helpers/wpt-clients.ts'

useWptServers()

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

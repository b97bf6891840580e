import assert from 'node:assert/strict'
import { request } from 'node:http'
import { connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { mintToken } from '../src/hub/mint-token.ts'
import { createMercureFetchHandler, type MercureFetchHandler } from '../src/web/index.ts'
import { eventually, sleep } from './helpers/raw-sse.ts'
import { type ServedFetch, serveFetch } from './helpers/serve-fetch.ts'
import { subscribeSse } from './helpers/sse-events.ts'

// ssehub/web's fetch handler served by a Node server through the smallest adapter that honours
// backpressure (test/helpers/serve-fetch.ts): the protocol, resumption, backpressure and
// disconnects as a client on the network sees them.

const KEY = 'ssehub-test-secret-0123456789-abcdefghij'
const MAX_QUEUE_BYTES = 256 * 1024
const STALL_TIMEOUT_MS = 500

const topicQuery = (topic: string): string => `topic=${encodeURIComponent(topic)}`

/** `promise`, or a failure naming `what` after `ms` milliseconds. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

describe('the fetch handler behind a Node server', () => {
  let hub: MercureFetchHandler
  let served: ServedFetch
  let hubUrl: string
  let publisher: string
  before(async () => {
    hub = createMercureFetchHandler({
      key: KEY,
      heartbeatMs: null,
      maxQueueBytes: MAX_QUEUE_BYTES,
      stallTimeoutMs: STALL_TIMEOUT_MS,
      maxBodyBytes: 64 * 1024,
      logger: null,
    })
    served = await serveFetch(hub)
    hubUrl = `${served.base}/.well-known/mercure`
    publisher = await mintToken({ key: KEY, publish: ['*'] })
  })
  after(async () => {
    await hub.close()
    await served.close()
  })

  const subscriberToken = (subscribe: string[] = ['*']) => mintToken({ key: KEY, subscribe })
  const publish = (
    fields: Record<string, string>,
    headers: Record<string, string> = { authorization: `Bearer ${publisher}` },
  ) =>
    fetch(hubUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(fields).toString(),
    })

  it('delivers a publish to a subscriber, over HTTP', async () => {
    const token = await subscriberToken()
    const sub = await subscribeSse(`${hubUrl}?${topicQuery('urn:web:1')}`, {
      authorization: `Bearer ${token}`,
    })
    assert.equal(sub.status, 200)
    assert.equal(sub.headers['content-type'], 'text/event-stream; charset=utf-8')
    const answer = await publish({ topic: 'urn:web:1', id: 'urn:web:1:a', data: 'hello' })
    assert.equal(answer.status, 200)
    assert.equal(await answer.text(), 'urn:web:1:a')
    const [event] = await sub.waitForEvents(1)
    assert.equal(event?.data, 'hello')
    assert.equal(event?.lastEventId, 'urn:web:1:a')
    sub.close()
  })

  it('resumes with Last-Event-ID across a reconnection, with no gap and no duplicate', async () => {
    const token = await subscriberToken()
    const auth = { authorization: `Bearer ${token}` }
    const url = `${hubUrl}?${topicQuery('urn:web:gap')}`
    const total = 150
    const first = await subscribeSse(url, auth)
    // Publishes go on, one after the other, while the subscriber drops and comes back.
    const publishing = (async () => {
      for (let i = 0; i < total; i++) {
        const answer = await publish({ topic: 'urn:web:gap', id: `urn:gap:${i}`, data: `${i}` })
        assert.equal(answer.status, 200)
      }
    })()
    await first.waitForEvents(40, 10_000)
    first.close()
    const received = first.events.map((event) => event.lastEventId)
    const last = received.at(-1) as string
    const second = await subscribeSse(url, { ...auth, 'last-event-id': last })
    assert.equal(second.headers['last-event-id'], last, 'the id is known: nothing was missed')
    await publishing
    await second.waitForEvents(total - received.length, 10_000)
    const all = [...received, ...second.events.map((event) => event.lastEventId)]
    assert.deepEqual(
      all,
      Array.from({ length: total }, (_, i) => `urn:gap:${i}`),
    )
    second.close()
  })

  it('resumes from a UTF-8 id sent as its UTF-8 bytes, and echoes it so', async () => {
    const id = 'urn:web:…é'
    await publish({ topic: 'urn:web:utf8', id, data: 'before' })
    await publish({ topic: 'urn:web:utf8', id: 'urn:web:after', data: 'after' })
    const token = await subscriberToken()
    const sub = await subscribeSse(`${hubUrl}?${topicQuery('urn:web:utf8')}`, {
      authorization: `Bearer ${token}`,
      'last-event-id': Buffer.from(id, 'utf8').toString('latin1'),
    })
    assert.equal(Buffer.from(String(sub.headers['last-event-id']), 'latin1').toString('utf8'), id)
    const [event] = await sub.waitForEvents(1)
    assert.equal(event?.data, 'after')
    sub.close()
  })

  it('frees the subscriber when its client disconnects', async () => {
    const token = await subscriberToken()
    const sub = await subscribeSse(`${hubUrl}?${topicQuery('urn:web:gone')}`, {
      authorization: `Bearer ${token}`,
    })
    const subscribed = () =>
      [...hub.hub.subscribers].filter((subscriber) => subscriber.selectors[0] === 'urn:web:gone')
    await eventually(() => subscribed().length === 1, 'the subscriber is counted')
    const [subscriber] = subscribed()
    sub.close()
    await eventually(() => subscribed().length === 0, 'the subscriber is released')
    assert.equal(subscriber?.stream.closeReason, 'client-closed')
  })

  it('holds at most its queue bound for a client that does not read, then cuts it', {
    timeout: 60_000,
  }, async () => {
    const token = await subscriberToken()
    const topic = 'urn:web:load'
    // The slow client sends its request, then never reads: the kernel's buffers fill, the
    // server's write() says wait, the body is no longer read, and its queue fills in turn.
    const slow = connect(Number(new URL(served.base).port), '127.0.0.1')
    slow.on('error', () => {})
    const slowClosed = new Promise<void>((resolve) => slow.on('close', () => resolve()))
    slow.on('data', () => {})
    slow.write(
      `GET /.well-known/mercure?${topicQuery(topic)} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Authorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`,
    )
    slow.pause()
    const fast = await subscribeSse(`${hubUrl}?${topicQuery(topic)}`, {
      authorization: `Bearer ${token}`,
    })
    await eventually(
      () => [...hub.hub.subscribers].filter((s) => s.selectors[0] === topic).length === 2,
      'both clients subscribed',
    )
    const [slowSubscriber] = [...hub.hub.subscribers].filter((s) => s.selectors[0] === topic)
    const slowStream = slowSubscriber?.stream
    assert.ok(slowStream)

    const payload = 'x'.repeat(64 * 1024)
    let published = 0
    let maxQueued = 0
    // Bounded: at most 64 MiB, far more than loopback's buffers hold; it stops once the hub cut
    // the slow client.
    while (published < 1000 && !slowStream.closed) {
      for (let k = 0; k < 8; k++) {
        await hub.hub.publish({
          id: `urn:load:${published}`,
          topics: [topic],
          data: payload,
          private: false,
        })
        published++
      }
      maxQueued = Math.max(maxQueued, slowStream.queuedBytes)
      await sleep(1)
    }
    await eventually(() => slowStream.closed, 'the slow client is cut', STALL_TIMEOUT_MS * 10)
    assert.ok(
      slowStream.closeReason === 'stalled' || slowStream.closeReason === 'overflow',
      `cut as a client that does not read, not ${slowStream.closeReason}`,
    )
    assert.ok(
      maxQueued <= MAX_QUEUE_BYTES,
      `the hub held at most its bound for it: ${maxQueued} of ${MAX_QUEUE_BYTES} bytes`,
    )
    assert.ok(!hub.hub.subscribers.has(slowSubscriber as never), 'the slow subscriber is released')
    // Its connection was closed too: once it reads what its buffers hold, it sees the end.
    slow.resume()
    await within(slowClosed, 10_000, 'the connection of the slow client closing')
    // The client that reads got every update, in order, whatever the other did.
    const events = await fast.waitForEvents(published, 30_000)
    assert.equal(events.at(-1)?.lastEventId, `urn:load:${published - 1}`)
    assert.equal(new Set(events.map((event) => event.lastEventId)).size, events.length)
    fast.close()
    slow.destroy()
  })

  it('answers 401 with a challenge to a publish without a token, or with a forged one', async () => {
    const none = await publish({ topic: 'urn:web:x', data: 'x' }, {})
    assert.equal(none.status, 401)
    assert.match(
      none.headers.get('www-authenticate') ?? '',
      /^Bearer realm="ssehub", resource_metadata="http:\/\/[^"]+\/\.well-known\/oauth-protected-resource\/\.well-known\/mercure"$/,
    )
    const forged = await mintToken({
      key: 'another-secret-that-is-long-enough-000',
      publish: ['*'],
    })
    const refused = await publish(
      { topic: 'urn:web:x', data: 'x' },
      { authorization: `Bearer ${forged}` },
    )
    assert.equal(refused.status, 401)
    assert.match(refused.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
  })

  it('answers 403 to a token that may not publish the topic, and 400 to a broken Bearer header', async () => {
    const narrow = await mintToken({ key: KEY, publish: ['urn:web:mine'] })
    const forbidden = await publish(
      { topic: 'urn:web:theirs', data: 'x' },
      { authorization: `Bearer ${narrow}` },
    )
    assert.equal(forbidden.status, 403)
    assert.match(forbidden.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/)
    assert.match(await forbidden.text(), /urn:web:theirs/)
    const broken = await publish({ topic: 'urn:web:x' }, { authorization: 'Bearer' })
    assert.equal(broken.status, 400)
  })

  it('answers 401 to a subscriber without a token, and 400 to one without a topic', async () => {
    const none = await fetch(`${hubUrl}?${topicQuery('urn:web:x')}`)
    assert.equal(none.status, 401)
    assert.match(await none.text(), /requires a token/)
    const token = await subscriberToken()
    const noTopic = await fetch(hubUrl, { headers: { authorization: `Bearer ${token}` } })
    assert.equal(noTopic.status, 400)
    assert.match(await noTopic.text(), /Missing topic matcher/)
  })

  it('answers 415 to another content type and 413 to a body over the limit', async () => {
    const json = await fetch(hubUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${publisher}`, 'content-type': 'application/json' },
      body: '{}',
    })
    assert.equal(json.status, 415)
    const large = await publish({ topic: 'urn:web:x', data: 'x'.repeat(100 * 1024) })
    assert.equal(large.status, 413)
  })

  it('answers 404 to a path that is not the hub’s', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      request(`${served.base}/other`, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
        .on('error', reject)
        .end()
    })
    assert.equal(status, 404)
  })
})

import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import type { SseMessage } from '../core/parse.ts'
import { EventSourceParserStream } from '../core/parse-stream.ts'
import { mintToken } from '../hub/mint-token.ts'
import { createMercureFetchHandler, type MercureFetchHandler } from './mercure-fetch-handler.ts'

const KEY = 'ssehub-test-secret-0123456789-abcdefghij'
const HUB = 'http://hub.test/.well-known/mercure'

/** The events of an SSE response, read as they come. */
function eventsOf(response: Response): { next(): Promise<SseMessage>; cancel(): Promise<void> } {
  const reader = (response.body as ReadableStream<Uint8Array>)
    .pipeThrough(new EventSourceParserStream())
    .getReader()
  return {
    async next() {
      const { done, value } = await reader.read()
      if (done) throw new Error('the stream ended')
      return value
    },
    cancel: () => reader.cancel(),
  }
}

function publishRequest(fields: Record<string, string>, token: string | null): Request {
  const headers = {
    'content-type': 'application/x-www-form-urlencoded',
    ...(token === null ? {} : { authorization: `Bearer ${token}` }),
  }
  return new Request(HUB, { method: 'POST', headers, body: new URLSearchParams(fields) })
}

describe('createMercureFetchHandler', () => {
  const handlers: MercureFetchHandler[] = []
  const create = (options: Parameters<typeof createMercureFetchHandler>[0] = {}) => {
    const handler = createMercureFetchHandler({
      key: KEY,
      heartbeatMs: null,
      logger: null,
      ...options,
    })
    handlers.push(handler)
    return handler
  }
  after(async () => {
    for (const handler of handlers) await handler.close()
  })

  it('needs a key, and says how to give one', () => {
    assert.throws(() => createMercureFetchHandler({}), /needs a key.*`key`/)
  })

  it("answers 404 for a path that is not the hub's, naming the hub's", async () => {
    const hub = create()
    const response = await hub(new Request('http://hub.test/elsewhere'))
    assert.equal(response.status, 404)
    assert.match(await response.text(), /\/\.well-known\/mercure/)
  })

  it('opens a subscription at once and delivers a publish to it', async () => {
    const hub = create({ anonymous: true })
    const response = await hub(new Request(`${HUB}?topic=${encodeURIComponent('urn:a')}`))
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    const events = eventsOf(response)
    const token = await mintToken({ key: KEY, publish: ['*'] })
    const published = await hub(
      publishRequest({ topic: 'urn:a', id: 'urn:1', data: 'hello' }, token),
    )
    assert.equal(published.status, 200)
    assert.equal(await published.text(), 'urn:1')
    const event = await events.next()
    assert.equal(event.data, 'hello')
    assert.equal(event.lastEventId, 'urn:1')
    await events.cancel()
  })

  it('resumes after Last-Event-ID, echoing it, then goes live', async () => {
    const hub = create({ anonymous: true })
    for (const id of ['r1', 'r2', 'r3']) {
      await hub.hub.publish({ id, topics: ['urn:r'], data: id, private: false })
    }
    const response = await hub(
      new Request(`${HUB}?topic=urn:r`, { headers: { 'last-event-id': 'r1' } }),
    )
    assert.equal(response.headers.get('last-event-id'), 'r1')
    const events = eventsOf(response)
    assert.equal((await events.next()).data, 'r2')
    assert.equal((await events.next()).data, 'r3')
    await hub.hub.publish({ id: 'r4', topics: ['urn:r'], data: 'r4', private: false })
    assert.equal((await events.next()).data, 'r4')
    await events.cancel()
  })

  it('refuses a subscriber without a token, with a challenge, when subscribers must have one', async () => {
    const hub = create()
    const response = await hub(new Request(`${HUB}?topic=urn:a`))
    assert.equal(response.status, 401)
    assert.equal(
      response.headers.get('www-authenticate'),
      'Bearer realm="ssehub", resource_metadata="http://hub.test/.well-known/oauth-protected-resource/.well-known/mercure"',
    )
    assert.match(await response.text(), /requires a token/)
    const missing = await hub(new Request(HUB))
    assert.equal(missing.status, 400)
  })

  it('answers a CORS preflight from an allowed origin only', async () => {
    const hub = create({ corsOrigins: ['https://app.example'] })
    const allowed = await hub(
      new Request(HUB, { method: 'OPTIONS', headers: { origin: 'https://app.example' } }),
    )
    assert.equal(allowed.status, 204)
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example')
    assert.equal(allowed.headers.get('access-control-allow-credentials'), 'true')
    const other = await hub(
      new Request(HUB, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } }),
    )
    assert.equal(other.headers.get('access-control-allow-origin'), null)
  })

  it("answers HEAD with a stream's headers and no body", async () => {
    const hub = create({ anonymous: true })
    const response = await hub(new Request(`${HUB}?topic=urn:a`, { method: 'HEAD' }))
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    assert.equal(response.body, null)
    assert.equal(hub.hub.subscribers.size, 0)
  })

  it('serves the subscriptions API when subscriptions are on', async () => {
    const hub = create({ anonymous: true, subscriptions: true })
    const stream = await hub(new Request(`${HUB}?topic=urn:listed`))
    const token = await mintToken({ key: KEY, subscribe: ['/.well-known/mercure/subscriptions'] })
    const response = await hub(
      new Request(`${HUB}/subscriptions`, { headers: { authorization: `Bearer ${token}` } }),
    )
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'application/ld+json')
    const listing = (await response.json()) as { subscriptions: Array<{ topic: string }> }
    assert.deepEqual(
      listing.subscriptions.map((subscription) => subscription.topic),
      ['urn:listed'],
    )
    await stream.body?.cancel()
  })

  it('ends the open streams on close(), and refuses new subscriptions with 503', async () => {
    const hub = create({ anonymous: true })
    const response = await hub(new Request(`${HUB}?topic=urn:a`))
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    await hub.close()
    assert.equal((await reader.read()).done, true, 'the stream ended cleanly')
    const late = await hub(new Request(`${HUB}?topic=urn:a`))
    assert.equal(late.status, 503)
    assert.equal(late.headers.get('retry-after'), '1')
  })
})

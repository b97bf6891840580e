// What an idle subscriber keeps alive. The idle benchmark (bench/idle.bench.ts) measures the
// memory; these tests pin the references that made it grow, which would otherwise come back
// silently: nothing fails when a closure keeps a request alive, it only costs memory.

import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { type EventSink, EventStream } from '../src/core/event-stream.ts'
import { openEventStream } from '../src/http/event-stream-response.ts'
import { createHub, type SubscribeRequest } from '../src/hub/hub.ts'
import { createMemoryStore } from '../src/storage/memory.ts'
import { startTestHub } from './helpers/hub-server.ts'
import { openRawSse } from './helpers/raw-sse.ts'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Whether `ref`'s target is collected after a full GC (WeakRef targets live to the end of the job). */
async function collected(ref: WeakRef<object>): Promise<boolean> {
  for (let attempt = 0; attempt < 5; attempt++) {
    await new Promise((resolve) => setImmediate(resolve))
    gc()
    if (ref.deref() === undefined) return true
  }
  return false
}

const nullSink = (): EventSink => ({ write: () => true, end() {}, destroy() {} })

describe('an idle subscriber', () => {
  it('leaves the hub no reference to its subscribe request (whose open() holds the HTTP objects)', async () => {
    const hub = createHub({ store: createMemoryStore(), maxLifetimeMs: null })
    let request: SubscribeRequest | null = {
      selectors: ['https://example.com/a'],
      claims: null,
      lastEventId: undefined,
      open: () => new EventStream(nullSink()),
    }
    const ref = new WeakRef(request)
    const subscriber = await hub.subscribe(request)
    request = null
    assert.equal(await collected(ref), true, 'the request is collected')
    assert.equal(hub.subscribers.has(subscriber), true, 'while the subscriber is connected')
    subscriber.stream.close('client-closed')
    assert.equal(hub.subscribers.size, 0)
    hub.close()
  })

  it('gets its IRI on first use, the same on every read', async () => {
    const hub = createHub({ store: createMemoryStore(), maxLifetimeMs: null })
    const subscriber = await hub.subscribe({
      selectors: ['*'],
      claims: null,
      lastEventId: undefined,
      open: () => new EventStream(nullSink()),
    })
    assert.match(
      subscriber.id,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    )
    assert.equal(subscriber.id, subscriber.id)
    assert.deepEqual(await hub.directory.listSubscriptions(), [
      { subscriber: subscriber.id, topic: '*' },
    ])
    hub.close()
  })
})

describe('an idle event stream over HTTP/1.1', () => {
  let url = ''
  const opened: Array<{ req: IncomingMessage; res: ServerResponse; drainsBefore: number }> = []
  const server = createServer((req, res) => {
    const drainsBefore = req.socket.listenerCount('drain')
    openEventStream(req, res)
    opened.push({ req, res, drainsBefore })
  })
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  after(async () => {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  })

  it("listens for 'drain' only once a write is refused, not for the stream's whole life", async () => {
    const raw = await openRawSse(url)
    await raw.waitFor((text) => text.startsWith(': ok\n'))
    const { req, res, drainsBefore } = opened.at(-1) as (typeof opened)[number]
    assert.equal(res.listenerCount('drain'), 0)
    assert.equal(req.socket.listenerCount('drain'), drainsBefore)
    assert.equal(res.listenerCount('close'), 1)
    raw.abort()
  })

  it('finds the response head where it flattens it (Node keeps it as `_header`)', async () => {
    const raw = await openRawSse(url)
    await raw.waitFor((text) => text.startsWith(': ok\n'))
    const { res } = opened.at(-1) as (typeof opened)[number]
    const head = (res as unknown as { _header: unknown })._header
    assert.equal(typeof head, 'string')
    assert.match(head as string, /^HTTP\/1\.1 200 OK\r\n/)
    raw.abort()
  })
})

describe('an idle subscriber of the hub over HTTP/1.1', () => {
  it('has its request headers used (token, Last-Event-ID) and then released', async () => {
    const hub = await startTestHub({ anonymous: false })
    const requests: IncomingMessage[] = []
    hub.server.server.on('request', (req: IncomingMessage) => requests.push(req))
    try {
      const id = await hub.publishOk({ topic: 'https://example.com/a', data: 'first' })
      await hub.publishOk({ topic: 'https://example.com/a', data: 'second' })
      const token = await hub.token({ subscribe: ['https://example.com/a'] })
      const raw = await openRawSse(
        `${hub.hubUrl}?topic=${encodeURIComponent('https://example.com/a')}`,
        {
          authorization: `Bearer ${token}`,
          'last-event-id': id,
        },
      )
      // The token let it in, the cursor made it resume after `first`.
      await raw.waitFor((text) => text.includes('data: second\n\n'))
      assert.equal(raw.res.statusCode, 200)
      assert.doesNotMatch(raw.text(), /data: first/)
      const subscribe = requests.find((req) => req.method === 'GET') as IncomingMessage
      assert.deepEqual(subscribe.rawHeaders, [])
      assert.deepEqual(subscribe.headers, {})
      raw.abort()
    } finally {
      await hub.close()
    }
  })
})

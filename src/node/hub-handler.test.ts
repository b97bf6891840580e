import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { TEST_SECRET } from '../../test/helpers/hub-server.ts'
import { subscribeSse } from '../../test/helpers/sse-events.ts'
import { storeWith } from '../../test/helpers/store-with.ts'
import { mintToken } from '../hub/mint-token.ts'
import { createMemoryStore } from '../storage/memory.ts'
import { createMercureHandler, type MercureHandler } from './hub-handler.ts'

/** Serves `hub` on a loopback port; other paths get 418 from the "app". */
async function serve(hub: MercureHandler): Promise<{ base: string; server: Server }> {
  const server = createServer(async (req, res) => {
    if (await hub(req, res)) return
    res.writeHead(418, { 'content-type': 'text/plain' })
    res.end('the app')
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return { base: `http://127.0.0.1:${port}`, server }
}

async function stop(server: Server): Promise<void> {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
}

async function publish(base: string, fields: Record<string, string>): Promise<Response> {
  const token = await mintToken({ key: TEST_SECRET, publish: ['*'] })
  return fetch(`${base}/.well-known/mercure`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Bearer ${token}`,
    },
    body: new URLSearchParams(fields).toString(),
  })
}

describe('createMercureHandler', () => {
  const servers: Server[] = []
  after(async () => {
    await Promise.all(servers.map(stop))
  })

  it('throws a TypeError saying which options to pass when no key is given', () => {
    assert.throws(() => createMercureHandler({}), {
      name: 'TypeError',
      message: /pass `key`.*or both `publisherKey` and `subscriberKey`/,
    })
    assert.throws(() => createMercureHandler({ publisherKey: TEST_SECRET }), TypeError)
  })

  it('names the option it was given in a key error, never the key', () => {
    assert.throws(
      () => createMercureHandler({ key: 'too-short-a-secret' }),
      (error: Error) => {
        assert.match(error.message, /^key is a shared secret shorter than 32 bytes/)
        assert.doesNotMatch(error.message, /too-short-a-secret/)
        return true
      },
    )
    assert.throws(() => createMercureHandler({ key: TEST_SECRET, subscriberKey: 'short' }), {
      message: /^subscriberKey is a shared secret/,
    })
  })

  it('resolves false for other paths and leaves the response to the app', async () => {
    const hub = createMercureHandler({ key: TEST_SECRET })
    const { base, server } = await serve(hub)
    servers.push(server)
    for (const path of ['/', '/hello', '/.well-known/mercurex', '/well-known/mercure']) {
      const res = await fetch(`${base}${path}`)
      assert.equal(res.status, 418, path)
      assert.equal(await res.text(), 'the app')
    }
    await hub.close()
  })

  it('publishes and delivers with its own memory store by default', async () => {
    const hub = createMercureHandler({ key: TEST_SECRET, anonymous: true, heartbeatMs: null })
    const { base, server } = await serve(hub)
    servers.push(server)
    assert.equal(hub.store.kind, 'memory')
    const sse = await subscribeSse(`${base}/.well-known/mercure?topic=urn:a`)
    try {
      const res = await publish(base, { topic: 'urn:a', data: 'hello' })
      assert.equal(res.status, 200)
      const id = await res.text()
      const [event] = await sse.waitForEvents(1)
      assert.deepEqual([event?.lastEventId, event?.data], [id, 'hello'])
    } finally {
      sse.close()
      await hub.close()
    }
  })

  it('resolves true once a stream is open, while its catch-up waits for the client', async () => {
    const store = createMemoryStore()
    // 25 MiB of history: more than loopback socket buffers take from a client that reads nothing.
    const data = 'x'.repeat(65_536)
    for (let i = 0; i < 400; i++) {
      await store.append({ id: `u${i}`, topics: ['urn:a'], data, private: false })
    }
    const hub = createMercureHandler({
      key: TEST_SECRET,
      anonymous: true,
      store,
      heartbeatMs: null,
    })
    let resolved: boolean | undefined
    const server = createServer(async (req, res) => {
      resolved = await hub(req, res)
    })
    servers.push(server)
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const { port } = server.address() as AddressInfo
    const client = request(
      `http://127.0.0.1:${port}/.well-known/mercure?topic=urn:a&lastEventID=earliest`,
    )
    client.on('error', () => {})
    client.on('response', (res) => res.pause())
    client.end()
    try {
      for (let waited = 0; resolved === undefined && waited < 5000; waited += 10) {
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      assert.equal(resolved, true)
      const [subscriber] = hub.hub.subscribers
      assert.equal(subscriber?.live, false, 'the catch-up is still waiting for the client')
    } finally {
      client.destroy()
      await hub.close()
      await store.close()
    }
  })

  it('refuses subscribers without a token unless anonymous is set', async () => {
    const hub = createMercureHandler({ key: TEST_SECRET })
    const { base, server } = await serve(hub)
    servers.push(server)
    const res = await fetch(`${base}/.well-known/mercure?topic=urn:a`)
    assert.equal(res.status, 401)
    await res.body?.cancel()
    await hub.close()
  })

  it('on close, ends its streams, refuses new subscriptions and closes only a store it made', async () => {
    const given = createMemoryStore()
    const own = createMercureHandler({ key: TEST_SECRET, anonymous: true })
    const lent = createMercureHandler({ key: TEST_SECRET, anonymous: true, store: given })
    for (const hub of [own, lent]) {
      const { base, server } = await serve(hub)
      servers.push(server)
      const sse = await subscribeSse(`${base}/.well-known/mercure?topic=urn:a`)
      await hub.close()
      await sse.ended
      const res = await fetch(`${base}/.well-known/mercure?topic=urn:a`)
      assert.equal(res.status, 503)
      await res.body?.cancel()
    }
    // The store it made is closed; the one it was given still takes updates.
    await assert.rejects(
      own.store.append({
        id: 'x',
        topics: ['urn:a'],
        data: '',
        private: false,
      }),
    )
    const stored = await given.append({ id: 'y', topics: ['urn:a'], data: '', private: false })
    assert.equal(stored.id, 'y')
    await given.close()
  })

  it('answers 500 and resolves true when the store fails unexpectedly, never rejecting', async () => {
    const store = createMemoryStore()
    const broken = storeWith(store, {
      kind: 'broken',
      append: () => Promise.reject(new Error('a bug in a custom store')),
    })
    const logged: string[] = []
    const logger = {
      info() {},
      warn() {},
      error: (fields: { err?: unknown }, message: string) => {
        logged.push(`${message}: ${(fields.err as Error).message}`)
      },
    }
    const hub = createMercureHandler({ key: TEST_SECRET, store: broken, logger })
    const { base, server } = await serve(hub)
    servers.push(server)
    const res = await publish(base, { topic: 'urn:a', data: 'x' })
    assert.equal(res.status, 500)
    assert.equal(await res.text(), 'Internal error.\n')
    assert.deepEqual(logged, ['hub request failed: a bug in a custom store'])
    await hub.close()
    await store.close()
  })
})

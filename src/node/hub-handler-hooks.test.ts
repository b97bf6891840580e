// The options a server composes `createMercureHandler` with (the `ssehub` server does, in
// `src/server/server.ts`): a heartbeat shared with its own streams, a hook on every stream the hub
// opens, its own handling of failures, key names of its own settings, and the subscriber key's
// verification for routes beside the hub.

import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { after, describe, it } from 'node:test'
import { TEST_SECRET } from '../../test/helpers/hub-server.ts'
import { subscribeSse } from '../../test/helpers/sse-events.ts'
import type { EventStream, EventStreamCloseReason } from '../core/event-stream.ts'
import { createHeartbeat } from '../core/heartbeat.ts'
import { mintToken } from '../hub/mint-token.ts'
import { createMemoryStore } from '../storage/memory.ts'
import { createMercureHandler, type MercureHandler } from './hub-handler.ts'

/** Serves `hub` on a loopback port; other paths get 404. */
async function serve(hub: MercureHandler): Promise<{ base: string; server: Server }> {
  const server = createServer(async (req, res) => {
    if (await hub(req, res)) return
    res.writeHead(404)
    res.end()
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as AddressInfo
  return { base: `http://127.0.0.1:${port}`, server }
}

describe('createMercureHandler, composed into a server', () => {
  const servers: Server[] = []
  after(async () => {
    for (const server of servers) server.closeAllConnections()
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))))
  })

  it('hands every stream it opens to onStream, on the heartbeat it was given', async () => {
    const heartbeat = createHeartbeat({ intervalMs: 60_000 })
    const opened: Array<{ stream: EventStream; url: string | undefined }> = []
    const closed: EventStreamCloseReason[] = []
    const hub = createMercureHandler({
      key: TEST_SECRET,
      anonymous: true,
      heartbeat,
      // Not read: the heartbeat given takes its place.
      heartbeatMs: 10,
      onStream: (stream, req) => {
        opened.push({ stream, url: req.url })
        stream.onClose((reason) => closed.push(reason))
      },
    })
    const { base, server } = await serve(hub)
    servers.push(server)
    const sse = await subscribeSse(`${base}/.well-known/mercure?topic=urn:a`)
    try {
      assert.deepEqual(
        opened.map((entry) => entry.url),
        ['/.well-known/mercure?topic=urn:a'],
      )
      assert.equal(heartbeat.size, 1, 'the stream beats with the heartbeat given')
      opened[0]?.stream.close('server-closed')
      await sse.ended
      assert.deepEqual(closed, ['server-closed'])
      assert.equal(heartbeat.size, 0)
    } finally {
      sse.close()
      await hub.close()
    }
  })

  it('reports an unexpected failure to onError instead of the logger, and still answers 500', async () => {
    const store = createMemoryStore()
    const failure = new Error('a bug in a custom store')
    // The memory store, but for appends that fail.
    const broken = new Proxy(store, {
      get(target, property) {
        if (property === 'append') return () => Promise.reject(failure)
        const value: unknown = Reflect.get(target, property)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const logged: string[] = []
    const reported: Array<{ error: unknown; method: string | undefined }> = []
    const hub = createMercureHandler({
      key: TEST_SECRET,
      store: broken,
      logger: { info() {}, warn() {}, error: (_fields, message) => logged.push(message) },
      onError: (error, req) => reported.push({ error, method: req.method }),
    })
    const { base, server } = await serve(hub)
    servers.push(server)
    const token = await mintToken({ key: TEST_SECRET, publish: ['*'] })
    const res = await fetch(`${base}/.well-known/mercure`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${token}`,
      },
      body: 'topic=urn:a&data=x',
    })
    assert.equal(res.status, 500)
    assert.equal(await res.text(), 'Internal error.\n')
    assert.deepEqual(reported, [{ error: failure, method: 'POST' }])
    assert.deepEqual(logged, [])
    await hub.close()
    await store.close()
  })

  it('names the keys as keyNames says in a configuration error', () => {
    assert.throws(
      () =>
        createMercureHandler({
          publisherKey: TEST_SECRET,
          subscriberKey: 'too-short-a-secret',
          keyNames: { publisher: 'APP_PUBLISHER_KEY', subscriber: 'APP_SUBSCRIBER_KEY' },
        }),
      { message: /^APP_SUBSCRIBER_KEY is a shared secret shorter than 32 bytes/ },
    )
  })

  it('verifies tokens with the subscriber key for routes of your own', async () => {
    const publisherKey = `${TEST_SECRET}-publisher`
    const hub = createMercureHandler({ publisherKey, subscriberKey: TEST_SECRET })
    try {
      const token = await mintToken({
        key: TEST_SECRET,
        subscribe: ['urn:a'],
        payload: { user: 'ada' },
      })
      const claims = await hub.verifySubscriberToken(token)
      assert.deepEqual([claims.subscribe, claims.payload], [['urn:a'], { user: 'ada' }])
      const foreign = await mintToken({ key: publisherKey, subscribe: ['urn:a'] })
      await assert.rejects(hub.verifySubscriberToken(foreign))
    } finally {
      await hub.close()
    }
  })
})

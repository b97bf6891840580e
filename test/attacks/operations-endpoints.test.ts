// Issue #11, item 8: the operations endpoints. `/metrics` told anyone who reached the port how
// many subscribers and updates the hub had, with no way to restrict it; `/healthz`, `/readyz` and
// `/metrics` answered any method as if it were GET; and `/readyz` said "ready" while SQLite could
// only be read (a full disk, a read-only file), since it checked the store with a read. Now
// `/metrics` can require a token (`--metrics-token`) or be served on another address only
// (`--metrics-listen`), the three answer GET and HEAD only (else 405 with Allow), and readiness
// is a write probe.

import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createMetrics } from '../../src/server/metrics.ts'
import { createSsehubServer, type SsehubServer } from '../../src/server/server.ts'
import { createMemoryStore } from '../../src/storage/memory.ts'
import { createSqliteStore, type SqliteStore } from '../../src/storage/sqlite.ts'
import { startTestHub, TEST_SECRET, type TestHub } from '../helpers/hub-server.ts'
import { sleep } from '../helpers/raw-sse.ts'
import { redisCommand, redisSkipReason, startOwnRedis } from '../helpers/redis.ts'
import { databaseHandleForTesting } from '../helpers/sqlite-handle.ts'

const TOKEN = 'metrics-token-0123456789abcdef'

/** Polls `url` until it answers `status`, for at most `timeoutMs`; resolves with the last status. */
async function statusBecomes(url: string, status: number, timeoutMs = 4000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await fetch(url)
    await res.arrayBuffer()
    if (res.status === status || Date.now() > deadline) return res.status
    await sleep(50)
  }
}

describe('/metrics behind a token', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub({}, { metrics: createMetrics(), metricsToken: TOKEN })
  })
  after(() => hub.close())

  it('answers 401 with a Bearer challenge without the token, or with another one', async () => {
    for (const headers of [
      {},
      { authorization: 'Bearer metrics-token-0123456789abcdeX' },
      { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
    ]) {
      const res = await fetch(`${hub.base}/metrics`, { headers })
      const text = await res.text()
      assert.equal(res.status, 401, JSON.stringify(headers))
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/)
      assert.doesNotMatch(text, /ssehub_/)
    }
    const inQuery = await fetch(`${hub.base}/metrics?authorization=${TOKEN}`)
    assert.equal(inQuery.status, 401, 'never from the URL, where it would be logged')
    await inQuery.arrayBuffer()
  })

  it('serves the metrics with the token', async () => {
    const res = await fetch(`${hub.base}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    })
    assert.equal(res.status, 200)
    assert.match(await res.text(), /^ssehub_subscribers 0$/m)
  })

  it('leaves /healthz and /readyz open, for the probes of the orchestrator', async () => {
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(`${hub.base}${path}`)
      assert.equal(res.status, 200, path)
      await res.arrayBuffer()
    }
  })
})

describe('/metrics on its own listener', () => {
  let server: SsehubServer
  let main: string
  let operations: string
  const store = createMemoryStore()
  before(async () => {
    server = createSsehubServer({
      heartbeatMs: null,
      metrics: createMetrics(),
      metricsListen: { host: '127.0.0.1', port: 0 },
      mercure: { store, publisherKey: TEST_SECRET, subscriberKey: TEST_SECRET, anonymous: true },
    })
    const address = await server.listen(0, '127.0.0.1')
    assert.ok(address.metrics, 'listen() gives the metrics listener address')
    main = address.url
    operations = address.metrics.url
  })
  after(async () => {
    await server.close()
    await store.close()
  })

  it('serves /metrics, /healthz and /readyz there, and /metrics no longer on the main port', async () => {
    const there = await fetch(`${operations}/metrics`)
    assert.equal(there.status, 200)
    assert.match(await there.text(), /^ssehub_updates_published_total 0$/m)
    for (const path of ['/healthz', '/readyz']) {
      const res = await fetch(`${operations}${path}`)
      assert.equal(res.status, 200, path)
      await res.arrayBuffer()
    }
    const onMain = await fetch(`${main}/metrics`)
    assert.equal(onMain.status, 404)
    assert.doesNotMatch(await onMain.text(), /ssehub_/)
    const health = await fetch(`${main}/healthz`)
    assert.equal(health.status, 200, 'the main port keeps its health endpoints')
    await health.arrayBuffer()
  })

  it('serves nothing else there: no hub, no pages', async () => {
    for (const path of ['/.well-known/mercure?topic=*', '/', '/demo/clock/']) {
      const res = await fetch(`${operations}${path}`)
      assert.equal(res.status, 404, path)
      await res.arrayBuffer()
    }
  })
})

describe('the methods of /healthz, /readyz and /metrics', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub({}, { metrics: createMetrics() })
  })
  after(() => hub.close())

  it('answers 405 with Allow: GET, HEAD to any other method', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const res = await fetch(`${hub.base}${path}`, {
          method,
          body: method === 'DELETE' ? null : 'x',
        })
        assert.equal(res.status, 405, `${method} ${path}`)
        assert.equal(res.headers.get('allow'), 'GET, HEAD', `${method} ${path}`)
        assert.doesNotMatch(await res.text(), /ssehub_/)
      }
    }
  })

  it('answers HEAD like GET, without a body', async () => {
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      const res = await fetch(`${hub.base}${path}`, { method: 'HEAD' })
      assert.equal(res.status, 200, path)
      assert.equal((await res.arrayBuffer()).byteLength, 0, path)
    }
  })
})

describe('/readyz with an SQLite store that cannot write', () => {
  let dir: string
  let store: SqliteStore
  let hub: TestHub
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ssehub-readyz-'))
    store = createSqliteStore({ path: join(dir, 'hub.db') })
    hub = await startTestHub({ store })
  })
  after(async () => {
    await hub.close()
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('answers 503 while the database is read-only, though every read still works, and 200 after', async () => {
    await hub.publishOk({ topic: 'urn:ready', data: 'before' })
    assert.equal(await statusBecomes(`${hub.base}/readyz`, 200), 200)
    const db = databaseHandleForTesting(store)
    db.pragma('query_only = ON')
    try {
      assert.equal(await store.size(), 1, 'reads work')
      assert.equal(await statusBecomes(`${hub.base}/readyz`, 503), 503)
      const publish = await hub.publish({ topic: 'urn:ready', data: 'refused' })
      assert.equal(publish.status, 503, 'and publishes do fail')
      await publish.arrayBuffer()
    } finally {
      db.pragma('query_only = OFF')
    }
    assert.equal(await statusBecomes(`${hub.base}/readyz`, 200), 200)
  })

  it('answers 503 while the database is full (max_page_count reached), and 200 once it has room', async () => {
    const db = databaseHandleForTesting(store)
    const pages = Number(db.pragma('page_count'))
    db.pragma(`max_page_count = ${pages}`)
    try {
      assert.equal(await statusBecomes(`${hub.base}/readyz`, 503), 503)
      const publish = await hub.publish({ topic: 'urn:ready', data: 'x'.repeat(50_000) })
      assert.equal(publish.status, 503, 'a publish that needs room fails too')
      await publish.arrayBuffer()
    } finally {
      db.pragma('max_page_count = 1073741823')
    }
    assert.equal(await statusBecomes(`${hub.base}/readyz`, 200), 200)
    assert.equal(Number(db.pragma('page_count')), pages, 'the probes left no page')
  })
})

describe('/readyz with a Redis that answers PING but refuses writes', async () => {
  const skip = await redisSkipReason({ server: true })
  it('answers 503 while Redis refuses writes (NOREPLICAS), and 200 once it takes them', {
    skip: skip ?? false,
  }, async () => {
    // A Redis of the test's own: the shared one must never refuse writes to other tests.
    const redis = await startOwnRedis()
    const { createRedisStore } = await import('../../src/storage/redis.ts')
    const store = await createRedisStore({ url: redis.url, commandTimeoutMs: 1000 })
    const hub = await startTestHub({ store })
    try {
      assert.equal(await statusBecomes(`${hub.base}/readyz`, 200), 200)
      // With no replica connected, "at least one replica" makes Redis refuse every write.
      await redisCommand(['CONFIG', 'SET', 'min-replicas-to-write', '1'], redis.url)
      assert.equal(await redisCommand(['PING'], redis.url), 'PONG', 'reads still answer')
      assert.equal(await statusBecomes(`${hub.base}/readyz`, 503), 503)
      const publish = await hub.publish({ topic: 'urn:ready', data: 'refused' })
      assert.equal(publish.status, 503, 'and publishes do fail')
      await publish.arrayBuffer()
      await redisCommand(['CONFIG', 'SET', 'min-replicas-to-write', '0'], redis.url)
      assert.equal(await statusBecomes(`${hub.base}/readyz`, 200), 200)
    } finally {
      await hub.close()
      await store.close()
      await redis.cleanup()
    }
  })
})

import assert from 'node:assert/strict'
import { METHODS } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createMemoryStore } from '../hub/index.ts'
import { createSsehubServer, type SsehubServer } from './server.ts'

// What reaches the hub through the server's routes: Mercure 1.0 puts one of its resources outside
// the hub's path, and lets a subscription come as a QUERY.

const KEY = 'routing-test-key-'.repeat(3)

describe('the server routes', () => {
  let server: SsehubServer
  let base: string

  before(async () => {
    server = createSsehubServer({
      mercure: {
        store: createMemoryStore(),
        publisherKey: KEY,
        subscriberKey: KEY,
        anonymous: true,
      },
    })
    base = (await server.listen(0, '127.0.0.1')).url
  })
  after(() => server.close())

  it('answer GET / with the landing page, whose CSP lets it reach the hub on its own origin', async () => {
    const res = await fetch(`${base}/`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/)
    // Mercure's conformance suites load / and then fetch and subscribe on the same origin.
    assert.match(
      res.headers.get('content-security-policy') ?? '',
      /(^|;)\s*connect-src 'self'(;|$)/,
    )
    assert.match(await res.text(), /<!doctype html>/i)
  })

  it('give the hub its protected resource metadata, outside the hub path', async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/.well-known/mercure`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/)
    const metadata = (await res.json()) as { resource?: unknown }
    assert.equal(metadata.resource, `${base}/.well-known/mercure`)
  })

  it('let a QUERY subscription through to the hub', {
    skip: METHODS.includes('QUERY') ? false : `this Node (${process.version}) cannot parse QUERY`,
  }, async () => {
    const controller = new AbortController()
    const res = await fetch(`${base}/.well-known/mercure`, {
      method: 'QUERY',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'match=https%3A%2F%2Fexample.com%2Fbooks%2F1',
      signal: controller.signal,
    })
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/)
    controller.abort()
  })

  it('refuse a QUERY elsewhere with 405', async () => {
    const res = await fetch(`${base}/`, { method: 'QUERY', body: 'x' })
    assert.equal(res.status, 405)
    await res.arrayBuffer()
  })
})

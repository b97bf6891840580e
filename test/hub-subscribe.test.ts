import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'
import { eventually, openRawSse, sleep } from './helpers/raw-sse.ts'
import { subscribeSse } from './helpers/sse-events.ts'

const q = (...selectors: string[]) =>
  selectors.map((s) => `topic=${encodeURIComponent(s)}`).join('&')

describe('subscribing to the hub', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub({ corsOrigins: ['https://app.example.com'] })
  })
  after(() => hub.close())

  it('flushes the SSE headers and a first comment before any update exists', async () => {
    const raw = await openRawSse(`${hub.hubUrl}?${q('https://example.com/none')}`)
    assert.equal(raw.res.statusCode, 200)
    assert.equal(raw.res.headers['content-type'], 'text/event-stream; charset=utf-8')
    assert.equal(raw.res.headers['x-accel-buffering'], 'no')
    await raw.waitFor((text) => text.startsWith(': ok\n'))
    raw.abort()
  })

  it('routes by exact topic, alternate topic, URI template and *, and skips the rest', async () => {
    const exact = await subscribeSse(`${hub.hubUrl}?${q('https://example.com/books/1')}`)
    const template = await subscribeSse(`${hub.hubUrl}?${q('https://example.com/books/{id}')}`)
    const several = await subscribeSse(`${hub.hubUrl}?${q('urn:nothing', 'urn:alt:1')}`)
    const all = await subscribeSse(`${hub.hubUrl}?${q('*')}`)
    await hub.publishOk([
      ['topic', 'https://example.com/books/1'],
      ['data', 'one'],
    ])
    await hub.publishOk([
      ['topic', 'https://example.com/books/2'],
      ['topic', 'urn:alt:1'],
      ['data', 'two'],
    ])
    await hub.publishOk([
      ['topic', 'https://example.com/authors/1'],
      ['data', 'three'],
    ])
    await all.waitForEvents(3)
    await sleep(50)
    assert.deepEqual(
      exact.events.map((e) => e.data),
      ['one'],
    )
    assert.deepEqual(
      template.events.map((e) => e.data),
      ['one', 'two'],
    )
    assert.deepEqual(
      several.events.map((e) => e.data),
      ['two'],
    )
    assert.deepEqual(
      all.events.map((e) => e.data),
      ['one', 'two', 'three'],
    )
    for (const sub of [exact, template, several, all]) sub.close()
  })

  it('sends an update once to a subscriber matched by several selectors and topics', async () => {
    const sub = await subscribeSse(`${hub.hubUrl}?${q('urn:a', 'urn:b', '*')}`)
    await hub.publishOk([
      ['topic', 'urn:a'],
      ['topic', 'urn:b'],
      ['data', 'once'],
    ])
    await hub.publishOk([
      ['topic', 'urn:a'],
      ['data', 'marker'],
    ])
    await sub.waitForEvents(2)
    assert.deepEqual(
      sub.events.map((e) => e.data),
      ['once', 'marker'],
    )
    sub.close()
  })

  it('gives private updates only to subscribers whose token allows one of their topics', async () => {
    const anonymous = await subscribeSse(`${hub.hubUrl}?${q('*')}`)
    const allowed = await subscribeSse(`${hub.hubUrl}?${q('*')}`, {
      authorization: `Bearer ${await hub.token({ subscribe: ['https://example.com/users/{name}'] })}`,
    })
    const other = await subscribeSse(`${hub.hubUrl}?${q('*')}`, {
      authorization: `Bearer ${await hub.token({ subscribe: ['https://example.com/admins/{name}'] })}`,
    })
    await hub.publishOk([
      ['topic', 'urn:secret'],
      ['topic', 'https://example.com/users/ada'],
      ['private', 'on'],
      ['data', 'private'],
    ])
    await hub.publishOk([
      ['topic', 'urn:public'],
      ['data', 'public'],
    ])
    await Promise.all([
      anonymous.waitForEvents(1),
      allowed.waitForEvents(2),
      other.waitForEvents(1),
    ])
    await sleep(50)
    assert.deepEqual(
      anonymous.events.map((e) => e.data),
      ['public'],
    )
    assert.deepEqual(
      allowed.events.map((e) => e.data),
      ['private', 'public'],
    )
    assert.deepEqual(
      other.events.map((e) => e.data),
      ['public'],
    )
    for (const sub of [anonymous, allowed, other]) sub.close()
  })

  it('answers 400 without a topic, with too many, or with an invalid selector', async () => {
    const none = await fetch(hub.hubUrl)
    assert.equal(none.status, 400)
    assert.match(await none.text(), /Missing topic matcher: .*\?match=.*\?topic=/)
    const many = await fetch(
      `${hub.hubUrl}?${Array.from({ length: 1001 }, (_, i) => `topic=t${i}`).join('&')}`,
    )
    assert.equal(many.status, 400)
    assert.match(await many.text(), /Too many "topic" parameters: 1001/)
    // 200 ordinary templates are fine (a 16 KiB request line holds no more); 68 of 485 states are
    // too much work for every publish.
    const ordinary = await fetch(
      `${hub.hubUrl}?${Array.from({ length: 200 }, (_, i) => q(`u${i}/{id}/{?topic}`)).join('&')}`,
    )
    assert.equal(ordinary.status, 200)
    await ordinary.body?.cancel()
    const heavy = await fetch(
      `${hub.hubUrl}?${Array.from({ length: 68 }, (_, i) => q(`https://example.com/${i}/{a:80}`)).join('&')}`,
    )
    assert.equal(heavy.status, 400)
    assert.match(await heavy.text(), /need 32980 automaton states together, more than 32768/)
  })

  it('answers 401 to an invalid token, even when anonymous subscribers are allowed', async () => {
    const res = await fetch(`${hub.hubUrl}?${q('*')}`, {
      headers: { authorization: 'Bearer not.a.token' },
    })
    assert.equal(res.status, 401)
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
  })

  it('answers CORS for allowed origins only, with credentials', async () => {
    const preflight = await fetch(hub.hubUrl, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://app.example.com',
        'access-control-request-headers': 'last-event-id',
      },
    })
    assert.equal(preflight.status, 204)
    assert.equal(preflight.headers.get('access-control-allow-origin'), 'https://app.example.com')
    assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true')
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /last-event-id/)
    const evil = await fetch(hub.hubUrl, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example' },
    })
    assert.equal(evil.headers.get('access-control-allow-origin'), null)
  })

  it('advertises the hub with a Link header on pages', async () => {
    const res = await fetch(`${hub.base}/`)
    assert.equal(res.headers.get('link'), '</.well-known/mercure>; rel="mercure"')
  })
})

describe('a subscription without anonymous access', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub({ anonymous: false })
  })
  after(() => hub.close())

  it('answers 401 with a challenge when there is no token', async () => {
    const res = await fetch(`${hub.hubUrl}?${q('*')}`)
    assert.equal(res.status, 401)
    // [spec] RFC 6750 §3.1: no error code without a token; RFC 9728 §5.1: where the metadata is.
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer realm="ssehub", resource_metadata="${new URL(hub.hubUrl).origin}/.well-known/oauth-protected-resource/.well-known/mercure"`,
    )
    assert.match(await res.text(), /Subscribing requires a token/)
  })

  it('accepts the token from the query parameter and from the cookie', async () => {
    const token = await hub.token({ subscribe: ['*'] })
    const byQuery = await subscribeSse(`${hub.hubUrl}?${q('*')}&authorization=${token}`)
    const byCookie = await subscribeSse(`${hub.hubUrl}?${q('*')}`, {
      cookie: `other=1; mercureAuthorization=${token}`,
    })
    assert.equal(byQuery.status, 200)
    assert.equal(byCookie.status, 200)
    byQuery.close()
    byCookie.close()
  })
})

describe('connection lifetime', () => {
  it('ends a subscription when its token expires', async () => {
    const hub = await startTestHub({ anonymous: false })
    try {
      const token = await hub.token({ subscribe: ['*'] })
      const { SignJWT } = await import('jose')
      const { TEST_SECRET } = await import('./helpers/hub-server.ts')
      const shortLived = await new SignJWT({ mercure: { subscribe: ['*'] } })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime(Math.floor(Date.now() / 1000) + 2)
        .sign(new TextEncoder().encode(TEST_SECRET))
      const expiring = await openRawSse(`${hub.hubUrl}?${q('*')}`, {
        authorization: `Bearer ${shortLived}`,
      })
      const lasting = await openRawSse(`${hub.hubUrl}?${q('*')}`, {
        authorization: `Bearer ${token}`,
      })
      const started = Date.now()
      await expiring.ended
      const lived = Date.now() - started
      assert.ok(lived < 3000, `closed within the token's lifetime (${lived} ms)`)
      assert.equal(lasting.res.destroyed, false, 'a subscriber with a valid token stays')
      lasting.abort()
    } finally {
      await hub.close()
    }
  })

  it('ends a connection cleanly at its maximum lifetime', async () => {
    const hub = await startTestHub({ maxLifetimeMs: 1500 })
    try {
      const raw = await openRawSse(`${hub.hubUrl}?${q('*')}`)
      await raw.ended
      assert.equal(raw.res.complete, true, 'ended with a clean end of stream, not a reset')
      await eventually(() => hub.server.openStreams === 0, 'stream released')
    } finally {
      await hub.close()
    }
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createMetrics } from '../src/server/metrics.ts'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'
import { openRawSse, type RawSse } from './helpers/raw-sse.ts'

const ADMIN_TOKEN = 'dashboard-test-token-0123456789'

/** Signs in with the form, as a browser on `origin` would; resolves with the response. */
function login(hub: TestHub, token: string, origin: string | null = hub.base): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (origin !== null) headers['origin'] = origin
  return fetch(`${hub.base}/admin/login`, {
    method: 'POST',
    redirect: 'manual',
    headers,
    body: new URLSearchParams({ token }).toString(),
  })
}

/** The `name=value` of a response's Set-Cookie. */
function cookieOf(res: Response): string {
  return (res.headers.get('set-cookie') ?? '').split(';', 1)[0] as string
}

/** The last `stats` event a raw stream received. */
function lastStats(text: string): Record<string, unknown> {
  const events = [...text.matchAll(/^event: stats\ndata: (.*)$/gm)]
  const last = events.at(-1)?.[1]
  assert.ok(last, `a stats event in ${JSON.stringify(text.slice(-200))}`)
  return JSON.parse(last) as Record<string, unknown>
}

/** A sample of the Prometheus text: its value, 0 when absent. */
function metric(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
  return match === null ? 0 : Number(match[1])
}

describe('/admin/ without an admin token', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub({}, { metrics: createMetrics() })
  })
  after(() => hub.close())

  it('answers 404 for the page, its files, its stream and its forms', async () => {
    for (const path of [
      '/admin',
      '/admin/',
      '/admin/index.html',
      '/admin/admin.js',
      '/admin/stats',
    ]) {
      const res = await fetch(`${hub.base}${path}`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      assert.equal(res.status, 404, path)
      await res.body?.cancel()
    }
    const res = await login(hub, ADMIN_TOKEN)
    assert.equal(res.status, 404)
    assert.equal(res.headers.get('set-cookie'), null)
  })
})

describe('/admin/ with an admin token', () => {
  let hub: TestHub
  const open: RawSse[] = []
  before(async () => {
    hub = await startTestHub({}, { metrics: createMetrics(), adminToken: ADMIN_TOKEN })
  })
  after(async () => {
    for (const sse of open) sse.abort()
    await hub.close()
  })

  it('answers 401 with a login form, not the page, to whoever has no session', async () => {
    const res = await fetch(`${hub.base}/admin/`)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="ssehub admin"')
    assert.equal(res.headers.get('cache-control'), 'no-store')
    const body = await res.text()
    assert.match(body, /<form method="post" action="\/admin\/login">/)
    assert.doesNotMatch(body, /chart-rates/, 'not the dashboard')
    assert.ok(!body.includes(ADMIN_TOKEN))
    const redirect = await fetch(`${hub.base}/admin`, { redirect: 'manual' })
    assert.equal(redirect.status, 308)
    assert.equal(redirect.headers.get('location'), '/admin/')
  })

  it('refuses the page, its scripts and the stream to a wrong token or a forged cookie', async () => {
    const session = cookieOf(await login(hub, ADMIN_TOKEN))
    const [, value] = session.split('=') as [string, string]
    const [expiry, mac] = value.split('.') as [string, string]
    const attempts: Record<string, string>[] = [
      {},
      { authorization: `Bearer ${ADMIN_TOKEN}x` },
      { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` },
      { authorization: ADMIN_TOKEN },
      { cookie: `ssehub_admin=${ADMIN_TOKEN}` },
      // The MAC covers the expiry: one made to last longer fails.
      { cookie: `ssehub_admin=${Number(expiry) + 3600}.${mac}` },
      { cookie: `ssehub_admin=${expiry}.${'A'.repeat(43)}` },
      { cookie: `other=${value}` },
    ]
    for (const headers of attempts) {
      for (const path of ['/admin/', '/admin/admin.js', '/admin/charts.js', '/admin/stats']) {
        const res = await fetch(`${hub.base}${path}`, { headers })
        assert.equal(res.status, 401, `${path} with ${JSON.stringify(headers)}`)
        assert.notEqual(res.headers.get('content-type'), 'text/event-stream; charset=utf-8')
        await res.body?.cancel()
      }
    }
  })

  it('signs in with the form: an HttpOnly, SameSite=Strict cookie scoped to /admin', async () => {
    const res = await login(hub, ADMIN_TOKEN)
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/admin/')
    const setCookie = res.headers.get('set-cookie') ?? ''
    assert.match(setCookie, /^ssehub_admin=\d+\.[A-Za-z0-9_-]{43}; /)
    assert.match(setCookie, /; Path=\/admin;/)
    assert.match(setCookie, /; HttpOnly/)
    assert.match(setCookie, /; SameSite=Strict/)
    assert.doesNotMatch(setCookie, /Secure/, 'plain HTTP: a Secure cookie would never come back')
    assert.ok(!setCookie.includes(ADMIN_TOKEN))
    const page = await fetch(`${hub.base}/admin/`, { headers: { cookie: cookieOf(res) } })
    assert.equal(page.status, 200)
    assert.equal(page.headers.get('cache-control'), 'no-store')
    assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'self'/)
    assert.match(await page.text(), /chart-rates/)
    const script = await fetch(`${hub.base}/admin/charts.js`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    assert.equal(script.status, 200)
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8')
    await script.body?.cancel()
  })

  it('marks the cookie Secure when the form was posted from an https page (TLS at a proxy)', async () => {
    const host = new URL(hub.base).host
    const res = await login(hub, ADMIN_TOKEN, `https://${host}`)
    assert.equal(res.status, 303)
    assert.match(res.headers.get('set-cookie') ?? '', /; Secure$/)
  })

  it('refuses a login form posted from another origin, or without an Origin', async () => {
    for (const origin of ['http://evil.example', 'null', 'http://127.0.0.1:1', null]) {
      const res = await login(hub, ADMIN_TOKEN, origin)
      assert.equal(res.status, 403, String(origin))
      assert.equal(res.headers.get('set-cookie'), null)
      await res.body?.cancel()
    }
  })

  it('takes a form whose Origin a policy made null when Sec-Fetch-Site says same-origin', async () => {
    const post = (site: string): Promise<Response> =>
      fetch(`${hub.base}/admin/login`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'null',
          'sec-fetch-site': site,
        },
        body: new URLSearchParams({ token: ADMIN_TOKEN }).toString(),
      })
    assert.equal((await post('same-origin')).status, 303)
    for (const site of ['cross-site', 'same-site', 'none']) {
      const res = await post(site)
      assert.equal(res.status, 403, site)
      await res.body?.cancel()
    }
  })

  it('answers a wrong token with the form again, and no cookie', async () => {
    const res = await login(hub, `${ADMIN_TOKEN}-wrong`)
    assert.equal(res.status, 401)
    assert.equal(res.headers.get('set-cookie'), null)
    assert.match(await res.text(), /That is not the admin token\./)
    const get = await fetch(`${hub.base}/admin/login`)
    assert.equal(get.status, 405)
    await get.body?.cancel()
  })

  it('serves only its own files: no traversal, no other name', async () => {
    const headers = { authorization: `Bearer ${ADMIN_TOKEN}` }
    for (const path of [
      '/admin/../package.json',
      '/admin/%2e%2e/package.json',
      '/admin/..%2fpackage.json',
      '/admin/nope.js',
      '/admin/index.html/',
    ]) {
      const res = await fetch(`${hub.base}${path}`, { headers })
      assert.notEqual(res.status, 200, path)
      await res.body?.cancel()
    }
    const css = await fetch(`${hub.base}/admin/login.css`)
    assert.equal(css.status, 200, 'the login form’s stylesheet is public')
    await css.body?.cancel()
  })

  it('streams a stats event a second whose figures equal /metrics', async () => {
    const sse = await openRawSse(`${hub.base}/admin/stats`, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    })
    open.push(sse)
    assert.equal(sse.res.statusCode, 200)
    assert.equal(sse.res.headers['content-type'], 'text/event-stream; charset=utf-8')
    const subscriber = await openRawSse(`${hub.hubUrl}?topic=${encodeURIComponent('urn:dash:a')}`)
    open.push(subscriber)
    for (let i = 0; i < 5; i++) await hub.publishOk({ topic: 'urn:dash:a', data: `${i}` })
    await subscriber.waitFor((text) => (text.match(/^data: /gm) ?? []).length === 5)
    // Two ticks after the publishes: the second counts all of them.
    const ticks = (sse.text().match(/^event: stats$/gm) ?? []).length
    await sse.waitFor((text) => (text.match(/^event: stats$/gm) ?? []).length >= ticks + 2, 5000)
    const stats = lastStats(sse.text())
    const metrics = await (await fetch(`${hub.base}/metrics`)).text()
    assert.equal(stats['subscribers'], metric(metrics, 'ssehub_subscribers'))
    assert.equal(stats['subscribers'], 1)
    assert.equal(stats['publishedTotal'], metric(metrics, 'ssehub_updates_published_total'))
    assert.equal(stats['publishedTotal'], 5)
    assert.equal(stats['deliveredTotal'], metric(metrics, 'ssehub_updates_delivered_total'))
    assert.deepEqual(stats['store'], {
      kind: 'memory',
      size: metric(metrics, 'ssehub_history_size'),
    })
    assert.deepEqual(stats['topSelectors'], [{ key: 'urn:dash:a', count: 1 }])
    subscriber.abort()
  })

  it('signs out: the cookie is cleared', async () => {
    const res = await fetch(`${hub.base}/admin/logout`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: hub.base },
    })
    assert.equal(res.status, 303)
    assert.match(res.headers.get('set-cookie') ?? '', /^ssehub_admin=; Path=\/admin; Max-Age=0/)
  })

  it('closes the stream of a viewer that leaves (the collector then stops: admin-stats.test.ts)', async () => {
    for (const sse of open.splice(0)) sse.abort()
    const stats = await openRawSse(`${hub.base}/admin/stats`, {
      authorization: `Bearer ${ADMIN_TOKEN}`,
    })
    await stats.waitFor((text) => text.includes('event: stats'), 5000)
    stats.abort()
    // Bounded wait for the server to see the close: 100 turns of 10 ms.
    let streams = hub.server.openStreams
    for (let i = 0; i < 100 && streams > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 10))
      streams = hub.server.openStreams
    }
    assert.equal(streams, 0)
  })
})

describe('the dashboard’s bounds', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub({}, { adminToken: ADMIN_TOKEN })
  })
  after(() => hub.close())

  it('takes at most 16 viewers; the 17th gets 503', async () => {
    const viewers: RawSse[] = []
    try {
      for (let i = 0; i < 16; i++) {
        const sse = await openRawSse(`${hub.base}/admin/stats`, {
          authorization: `Bearer ${ADMIN_TOKEN}`,
        })
        viewers.push(sse)
        assert.equal(sse.res.statusCode, 200, `viewer ${i + 1}`)
      }
      const more = await fetch(`${hub.base}/admin/stats`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
      assert.equal(more.status, 503)
      await more.body?.cancel()
    } finally {
      for (const sse of viewers) sse.abort()
    }
  })

  it('answers 429 after 20 failed sign-ins in 10 s, while the Bearer header still works', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await login(hub, `wrong-token-${i}-0123456789`)
      assert.equal(res.status, 401, `attempt ${i + 1}`)
      await res.body?.cancel()
    }
    const locked = await login(hub, ADMIN_TOKEN)
    assert.equal(locked.status, 429)
    assert.ok(Number(locked.headers.get('retry-after')) >= 1)
    await locked.body?.cancel()
    const page = await fetch(`${hub.base}/admin/`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    assert.equal(page.status, 200)
    await page.body?.cancel()
  })
})

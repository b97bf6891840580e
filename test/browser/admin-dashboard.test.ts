import assert from 'node:assert/strict'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { ClusterNode } from '../../src/hub/index.ts'
import { createMetrics } from '../../src/server/metrics.ts'
import { createMemoryStore } from '../../src/storage/memory.ts'
import { artifactPath, browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'
import { openRawSse, type RawSse } from '../helpers/raw-sse.ts'

const skip = browserSkipReason() ?? false
const ADMIN_TOKEN = 'browser-dashboard-token-0123456789'
const SUBSCRIBERS = 24
const TOPICS = ['urn:load:orders', 'urn:load:chat', 'urn:load:prices', 'urn:load:alerts']

/** A sample of the Prometheus text: its value, 0 when absent. */
function metric(text: string, name: string): number {
  const match = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)
  return match === null ? 0 : Number(match[1])
}

/** The raw figure an element of the page holds (its data-value). */
async function figure(page: Page, id: string): Promise<number> {
  const value = await page.getAttribute(`#${id}`, 'data-value')
  assert.ok(value !== null && value !== '', `#${id} has a value`)
  return Number(value)
}

/** Resolves after the page drew a snapshot newer than the one it shows now. */
async function nextSnapshot(page: Page): Promise<void> {
  const shown = await page.getAttribute('#updated', 'datetime')
  await page.waitForFunction(
    (before) => document.getElementById('updated')?.getAttribute('datetime') !== before,
    shown,
    { timeout: 5000 },
  )
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('the admin dashboard in Chromium', { skip }, () => {
  let hub: TestHub
  let browser: Browser
  const subscribers: RawSse[] = []
  let stuck: Socket | undefined
  /** The publishing load: a bounded number of rounds, stopped early by `loadDone`. */
  let load: Promise<number> = Promise.resolve(0)
  let loadDone = false

  before(async () => {
    hub = await startTestHub({}, { metrics: createMetrics(), adminToken: ADMIN_TOKEN })
    browser = await launchBrowser()
  })
  after(async () => {
    loadDone = true
    await load
    stuck?.destroy()
    for (const sse of subscribers) sse.abort()
    await browser?.close()
    await hub.close()
  })

  /** A context signed in through the form, and its dashboard page. */
  async function signIn(viewport: { width: number; height: number }): Promise<{
    context: BrowserContext
    page: Page
  }> {
    const context = await browser.newContext({ viewport })
    const page = await context.newPage()
    const first = await page.goto(`${hub.base}/admin/`)
    assert.equal(first?.status(), 401)
    await page.fill('#token', ADMIN_TOKEN)
    const [answer] = await Promise.all([
      page.waitForNavigation(),
      page.click('button[type=submit]'),
    ])
    assert.equal(answer?.status(), 200)
    assert.equal(new URL(page.url()).pathname, '/admin/')
    await page.waitForSelector('#state[data-state="open"]')
    return { context, page }
  }

  it('shows a non-admin the login form, never the page nor the stream', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    const res = await page.goto(`${hub.base}/admin/`)
    assert.equal(res?.status(), 401)
    assert.equal(await page.locator('#chart-rates').count(), 0)
    assert.equal(await page.locator('form[action="/admin/login"] #token').count(), 1)
    await page.screenshot({ path: artifactPath('admin-login.png') })
    // The page's own scripts and stream, asked from the hub's origin without a session.
    const statuses = await page.evaluate(async () =>
      Promise.all(
        ['/admin/stats', '/admin/admin.js'].map(async (path) => (await fetch(path)).status),
      ),
    )
    assert.deepEqual(statuses, [401, 401])
    // A wrong token through the form: the form again, no session.
    await page.fill('#token', `${ADMIN_TOKEN}-wrong`)
    const [wrong] = await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')])
    assert.equal(wrong?.status(), 401)
    assert.match((await page.textContent('.notice')) ?? '', /not the admin token/)
    assert.deepEqual(await context.cookies(), [])
    // A forged session cookie.
    const { port } = new URL(hub.base)
    await context.addCookies([
      {
        name: 'ssehub_admin',
        value: `${Math.floor(Date.now() / 1000) + 3600}.${'A'.repeat(43)}`,
        domain: '127.0.0.1',
        path: '/admin',
      },
    ])
    const forged = await page.goto(`${hub.base}/admin/`)
    assert.equal(forged?.status(), 401)
    const stream = await page.evaluate(async () => (await fetch('/admin/stats')).status)
    assert.equal(stream, 401)
    assert.ok(port)
    await context.close()
  })

  it('moves its charts under load, with the figures /metrics reports', async () => {
    const { context, page } = await signIn({ width: 1280, height: 900 })
    const cookies = await context.cookies()
    assert.equal(cookies.length, 1)
    assert.equal(cookies[0]?.httpOnly, true)
    assert.equal(cookies[0]?.sameSite, 'Strict')
    assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read the session')

    for (let i = 0; i < SUBSCRIBERS; i++) {
      const topic = TOPICS[i % (i < 12 ? 1 : TOPICS.length)] as string
      subscribers.push(await openRawSse(`${hub.hubUrl}?topic=${encodeURIComponent(topic)}`))
    }
    // One client that stops reading: its bytes queue up (the slowest clients' panel).
    stuck = connect(Number(new URL(hub.base).port), '127.0.0.1')
    stuck.write(
      `GET /.well-known/mercure?topic=urn:load:bulk HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`,
    )
    stuck.pause()
    await nextSnapshot(page)
    const chartBefore = await page.getAttribute(
      '#chart-rates polyline[data-series="publishes"]',
      'points',
    )
    const pointsBefore = Number(await page.getAttribute('#chart-rates', 'data-points'))

    // The load: about 100 publishes a second, 1 KiB each, for at most 600 rounds (60 s).
    const payload = 'x'.repeat(1024)
    load = (async () => {
      let sent = 0
      for (let round = 0; round < 600 && !loadDone; round++) {
        await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            hub.publishOk({ topic: TOPICS[(round + i) % 3] as string, data: payload }),
          ),
        )
        // 64 KiB for the client that stopped reading: its socket fills, then its queue at the hub.
        await hub.publishOk({ topic: 'urn:load:bulk', data: 'b'.repeat(65_536) })
        sent += 11
        await pause(100)
      }
      return sent
    })()

    // Two snapshots into the load, the rate shows and the charts have moved.
    await nextSnapshot(page)
    await nextSnapshot(page)
    const rate = await figure(page, 'publishes')
    assert.ok(rate > 0, `publishes/s shown: ${rate}`)
    assert.ok((await figure(page, 'deliveries')) > 0)
    const chartAfter = await page.getAttribute(
      '#chart-rates polyline[data-series="publishes"]',
      'points',
    )
    assert.notEqual(chartAfter, chartBefore, 'the publishes line moved')
    assert.ok(Number(await page.getAttribute('#chart-rates', 'data-points')) >= pointsBefore + 2)
    assert.notEqual(
      await page.getAttribute('#chart-dispatch polyline[data-series="p99"]', 'points'),
      '',
      'dispatch latency drawn',
    )

    // Right after a snapshot is drawn, /metrics is at most one second's publishes ahead.
    await nextSnapshot(page)
    const shownTotal = await figure(page, 'published-total')
    const shownRate = await figure(page, 'publishes')
    const shownSubscribers = await figure(page, 'subscribers')
    const metrics = await (await fetch(`${hub.base}/metrics`)).text()
    const total = metric(metrics, 'ssehub_updates_published_total')
    assert.ok(
      total >= shownTotal && total - shownTotal <= Math.max(shownRate, 10),
      `page ${shownTotal}, /metrics ${total}, rate ${shownRate}/s`,
    )
    assert.equal(shownSubscribers, metric(metrics, 'ssehub_subscribers'))
    assert.equal(shownSubscribers, SUBSCRIBERS + 1)
    // The panels fill: the hot selector first, the topics published to, the store.
    assert.match((await page.textContent('#top-selectors li .label')) ?? '', /urn:load:orders/)
    assert.ok((await page.locator('#top-topics li').count()) >= 3)
    assert.equal(await page.textContent('#store-kind'), 'memory')
    assert.ok((await figure(page, 'commit-p99')) >= 0)

    // A dozen seconds of history, so the screenshots show lines rather than their first points.
    await page.waitForFunction(
      () => Number(document.getElementById('chart-rates')?.getAttribute('data-points')) >= 12,
      undefined,
      { timeout: 20_000 },
    )
    await page.screenshot({ path: artifactPath('admin-dashboard-desktop.png'), fullPage: true })
    await page.setViewportSize({ width: 390, height: 844 })
    await nextSnapshot(page)
    const overflow = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    )
    assert.equal(overflow, 0, 'no sideways scrolling on a phone')
    await page.screenshot({ path: artifactPath('admin-dashboard-phone.png') })
    await page.screenshot({ path: artifactPath('admin-dashboard-phone-full.png'), fullPage: true })

    // The load ends; once it settles the page and /metrics agree exactly.
    loadDone = true
    const sent = await load
    await nextSnapshot(page)
    await nextSnapshot(page)
    const settled = await (await fetch(`${hub.base}/metrics`)).text()
    assert.equal(await figure(page, 'published-total'), sent)
    assert.equal(
      await figure(page, 'published-total'),
      metric(settled, 'ssehub_updates_published_total'),
    )
    assert.equal(
      await figure(page, 'delivered-total'),
      metric(settled, 'ssehub_updates_delivered_total'),
    )
    assert.equal(await figure(page, 'publishes'), 0)
    await context.close()
  })

  it('draws one row per node of a cluster, lost ones marked', async () => {
    // A store shared by nodes, as the Redis store's ClusterView reports them.
    const now = Date.now()
    const nodes: ClusterNode[] = [
      { id: 'node-a', self: true, alive: true, subscribers: 1200, lagMs: 3, seenAt: now },
      { id: 'node-b', self: false, alive: true, subscribers: 980, lagMs: 12, seenAt: now - 1000 },
      { id: 'node-c', self: false, alive: false, subscribers: 0, lagMs: null, seenAt: now - 9000 },
    ]
    const store = createMemoryStore()
    Object.defineProperty(store, 'cluster', {
      value: { nodeId: 'node-a', nodes: async () => nodes, onNodeLost: () => () => {} },
    })
    const clustered = await startTestHub({ store }, { adminToken: ADMIN_TOKEN })
    const context = await browser.newContext({
      viewport: { width: 390, height: 844 },
      extraHTTPHeaders: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })
    try {
      const page = await context.newPage()
      const res = await page.goto(`${clustered.base}/admin/`)
      assert.equal(res?.status(), 200)
      await page.waitForSelector('#cluster:not([hidden]) #nodes tr')
      const rows = await page.$$eval('#nodes tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 4).map((td) => td.textContent)),
      )
      assert.deepEqual(rows, [
        ['node-a (this one)', 'alive', '1,200', '3 ms'],
        ['node-b', 'alive', '980', '12 ms'],
        ['node-c', 'lost', '0', '–'],
      ])
      assert.equal(await page.getAttribute('#nodes tr:nth-child(3)', 'data-alive'), 'false')
      await page.locator('#cluster').scrollIntoViewIfNeeded()
      await page.screenshot({ path: artifactPath('admin-dashboard-cluster-phone.png') })
    } finally {
      await context.close()
      await clustered.close()
      await store.close()
    }
  })
})

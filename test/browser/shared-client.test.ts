import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { SharedClientOptions } from '../../src/client/index.ts'
import { browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import { startTestHub, TEST_SECRET, type TestHub } from '../helpers/hub-server.ts'

const skip = browserSkipReason() ?? false

/** What a page records of its shared client, in `window.__shared`. */
interface Recorded {
  events: Array<{ type: string; data?: string; id?: string; readyState: number }>
}
/** The page's `window`, with the client and what it recorded. */
type TestWindow = {
  __shared?: Recorded
  __client?: { readonly readyState: number; readonly role: string; close(): void }
}

/**
 * Opens `count` tabs of the hub's landing page (it opens no connection of its own) in `context`:
 * pages of one context share the origin's connection pool, its Web Locks and its channels.
 */
async function openTabs(context: BrowserContext, base: string, count: number): Promise<Page[]> {
  const pages: Page[] = []
  for (let i = 0; i < count; i++) {
    const page = await context.newPage()
    await page.goto(`${base}/`)
    pages.push(page)
  }
  return pages
}

/** Imports `/client.js` in the page and joins the shared subscription of `topic`. */
async function subscribe(
  page: Page,
  topic: string,
  options: Pick<SharedClientOptions, 'lastEventId' | 'name'> = {},
): Promise<void> {
  await page.evaluate(
    async ({ topic, options }) => {
      // A variable keeps TypeScript from resolving the page's URL as a module of this repository.
      const path = '/client.js'
      const { createSharedClient } = (await import(
        path
      )) as typeof import('../../src/client/index.ts')
      const client = createSharedClient('/.well-known/mercure', { ...options, topics: [topic] })
      const recorded: Recorded = { events: [] }
      const w = window as unknown as TestWindow
      w.__shared = recorded
      w.__client = client
      client.onopen = () => recorded.events.push({ type: 'open', readyState: client.readyState })
      client.onmessage = (event) =>
        recorded.events.push({
          type: 'message',
          data: event.data,
          id: event.lastEventId,
          readyState: client.readyState,
        })
      client.onerror = () => recorded.events.push({ type: 'error', readyState: client.readyState })
      client.ongap = () => recorded.events.push({ type: 'gap', readyState: client.readyState })
    },
    { topic, options },
  )
}

/** The data of the messages the page's client received, in order. */
const messagesOf = (page: Page): Promise<string[]> =>
  page.evaluate(() =>
    ((window as unknown as TestWindow).__shared?.events ?? [])
      .filter((event) => event.type === 'message')
      .map((event) => event.data ?? ''),
  )

const roleOf = (page: Page): Promise<string | undefined> =>
  page.evaluate(() => (window as unknown as TestWindow).__client?.role)

/** Waits until the page's client has received `count` messages. */
async function waitForMessages(page: Page, count: number, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    (count) =>
      ((window as unknown as TestWindow).__shared?.events ?? []).filter(
        (event) => event.type === 'message',
      ).length >= count,
    count,
    { timeout },
  )
}

async function waitForOpen(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as unknown as TestWindow).__client?.readyState === 1)
}

/** Polls `condition` (on the hub's side) until it holds, or fails with `what`. */
async function eventually(condition: () => boolean, what: string, timeout = 5000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`)
    await sleep(20)
  }
}

/** The subscriber connections the hub has open. */
const subscribersOf = (hub: TestHub): number => hub.server.mercure?.hub.subscribers.size ?? -1

/**
 * tsx compiles the functions given to `page.evaluate` with esbuild's `keepNames`, which names
 * functions through a `__name` helper the page does not have: give it one.
 */
async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext()
  await context.addInitScript({ content: 'globalThis.__name = (target) => target' })
  return context
}

describe('a subscription shared by the tabs of an origin, in Chromium over HTTP/1.1', {
  skip,
}, () => {
  let hub: TestHub
  let browser: Browser
  before(async () => {
    hub = await startTestHub()
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub?.close()
  })

  it('gives ten tabs every update over ONE hub connection', async () => {
    const context = await newContext(browser)
    const tabs = await openTabs(context, hub.base, 10)
    const topic = 'https://example.com/ten-tabs'
    for (const tab of tabs) await subscribe(tab, topic)
    await Promise.all(tabs.map(waitForOpen))
    // With an EventSource (or an SseClient) per tab, the hub would see ten connections, and on
    // HTTP/1.1 the seventh tab would wait forever for one of the browser's six.
    assert.equal(subscribersOf(hub), 1)
    assert.equal(hub.server.openStreams, 1)
    const roles = await Promise.all(tabs.map(roleOf))
    assert.deepEqual(
      roles.toSorted(),
      ['leader', ...Array.from({ length: 9 }, () => 'follower')].toSorted(),
    )

    await hub.publishOk({ topic, data: 'to every tab' })
    await Promise.all(tabs.map((tab) => waitForMessages(tab, 1)))
    for (const tab of tabs) assert.deepEqual(await messagesOf(tab), ['to every tab'])
    await context.close()
    await eventually(() => subscribersOf(hub) === 0, 'the connection to close')
  })

  it('fails over when the leader tab closes: every update once, in order', async () => {
    const context = await newContext(browser)
    const tabs = await openTabs(context, hub.base, 6)
    const topic = 'https://example.com/fail-over'
    for (const tab of tabs) await subscribe(tab, topic)
    await Promise.all(tabs.map(waitForOpen))
    const roles = await Promise.all(tabs.map(roleOf))
    const leader = tabs[roles.indexOf('leader')]
    assert.ok(leader !== undefined, 'one tab leads')
    // The new leader's connection takes 300 ms to reach the hub: the updates published meanwhile
    // reach the tabs only if it resumes from the last id they saw.
    await context.route(/\/\.well-known\/mercure\?/, async (route) => {
      await sleep(300)
      await route.continue()
    })

    const expected: string[] = []
    for (let i = 0; i < 60; i++) {
      const data = `update ${i}`
      await hub.publishOk({ topic, data })
      expected.push(data)
      // The leader tab goes mid-stream (as a closed tab does: no close() call, its lock and
      // channel go with the page), with updates still coming.
      if (i === 20) void leader.close()
      await sleep(10)
    }
    const remaining = tabs.filter((tab) => tab !== leader)
    await Promise.all(remaining.map((tab) => waitForMessages(tab, expected.length)))
    // A moment for any late duplicate to show up.
    await sleep(200)
    for (const tab of remaining) assert.deepEqual(await messagesOf(tab), expected)
    const after = await Promise.all(remaining.map(roleOf))
    assert.equal(after.filter((role) => role === 'leader').length, 1)
    await eventually(() => subscribersOf(hub) === 1, 'one connection, the new leader’s')
    // Followers never saw the hand-over: one open, no error.
    for (const tab of remaining) {
      const types = await tab.evaluate(() =>
        ((window as unknown as TestWindow).__shared?.events ?? []).map((event) => event.type),
      )
      assert.deepEqual(
        types.filter((type) => type !== 'message'),
        ['open'],
      )
    }
    await context.close()
    await eventually(() => subscribersOf(hub) === 0, 'the connection to close')
  })

  it('replays from lastEventId to a tab joining an open subscription, then relays, in order', async () => {
    const context = await newContext(browser)
    const topic = 'https://example.com/late-joiner'
    const first = await hub.publishOk({ topic, data: 'history 1' })
    await hub.publishOk({ topic, data: 'history 2' })
    const [leader, late] = await openTabs(context, hub.base, 2)
    assert.ok(leader !== undefined && late !== undefined)
    await subscribe(leader, topic, { lastEventId: 'earliest' })
    await waitForMessages(leader, 2)
    await subscribe(late, topic, { lastEventId: first })
    await waitForOpen(late)
    await hub.publishOk({ topic, data: 'live' })
    await waitForMessages(late, 2)
    await waitForMessages(leader, 3)
    assert.deepEqual(await messagesOf(late), ['history 2', 'live'])
    assert.equal(await roleOf(late), 'follower')
    // The catch-up connection ended once it reached the leader.
    await eventually(() => subscribersOf(hub) === 1, 'the catch-up to close')
    await context.close()
    await eventually(() => subscribersOf(hub) === 0, 'the connection to close')
  })

  it('falls back to a connection per tab without BroadcastChannel', async () => {
    const context = await newContext(browser)
    await context.addInitScript({ content: 'delete globalThis.BroadcastChannel' })
    const tabs = await openTabs(context, hub.base, 3)
    const topic = 'https://example.com/fallback'
    for (const tab of tabs) await subscribe(tab, topic)
    await Promise.all(tabs.map(waitForOpen))
    assert.deepEqual(await Promise.all(tabs.map(roleOf)), [
      'standalone',
      'standalone',
      'standalone',
    ])
    assert.equal(subscribersOf(hub), 3)
    await hub.publishOk({ topic, data: 'to each' })
    await Promise.all(tabs.map((tab) => waitForMessages(tab, 1)))
    for (const tab of tabs) assert.deepEqual(await messagesOf(tab), ['to each'])
    await context.close()
    await eventually(() => subscribersOf(hub) === 0, 'the connections to close')
  })
})

describe('ten tabs of the chat in Chromium over HTTP/1.1', { skip }, () => {
  let hub: TestHub
  let browser: Browser
  before(async () => {
    // The CLI's hub trusts the issuer `ssehub` (with its own keys) by default: the chat's tokens.
    hub = await startTestHub(
      { subscriptions: true, anonymous: false, trustedIssuers: [{ issuer: 'ssehub' }] },
      { chat: { signingKey: TEST_SECRET } },
    )
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub?.close()
  })

  /** Opens the chat in `page` and joins `room` as `nickname`. */
  async function join(page: Page, nickname: string, room: string): Promise<void> {
    await page.goto(`${hub.base}/apps/chat/`)
    await page.fill('input[name=nickname]', nickname)
    await page.fill('input[name=room]', room)
    await page.click('#join button')
    await page.waitForSelector('#state[data-state="live"]')
  }

  const hasText = (page: Page, text: string) =>
    page.waitForFunction(
      (text) => document.getElementById('messages')?.textContent?.includes(text),
      text,
      { timeout: 5000 },
    )

  it('all receive a new message, on one shared connection, each with the history', async () => {
    const room = 'ten-tabs'
    const others = await newContext(browser)
    const ada = await others.newPage()
    await join(ada, 'Ada', room)
    await ada.fill('#send input', 'before the tabs')
    await ada.click('#send button')
    await hasText(ada, 'before the tabs')

    const context = await newContext(browser)
    const tabs: Page[] = []
    for (let i = 0; i < 10; i++) {
      const tab = await context.newPage()
      await join(tab, 'Grace', room)
      tabs.push(tab)
    }
    // Each tab, leader or follower, shows the history from before it joined.
    await Promise.all(tabs.map((tab) => hasText(tab, 'before the tabs')))
    // Ada's connection, and one for Grace's ten tabs (the followers' history catch-ups closed).
    await eventually(() => subscribersOf(hub) === 2, 'two subscriber connections')

    const sent = Date.now()
    await ada.fill('#send input', 'Hello, all ten of you')
    await ada.click('#send button')
    await Promise.all(tabs.map((tab) => hasText(tab, 'Hello, all ten of you')))
    assert.ok(Date.now() - sent < 5000)
    for (const tab of tabs) {
      const texts = await tab.$$eval('#messages li:not(.notice)', (items) =>
        items.map((item) => item.querySelector('.text')?.textContent ?? ''),
      )
      assert.deepEqual(texts, ['before the tabs', 'Hello, all ten of you'])
    }
    assert.equal(subscribersOf(hub), 2)
    await context.close()
    await others.close()
  })
})

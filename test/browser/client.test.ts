import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import type { SseClientOptions } from '../../src/client/index.ts'
import { browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'

const skip = browserSkipReason() ?? false

/** What the page records of one client, by name, in `window.__clients`. */
interface Recorded {
  events: Array<{ type: string; data?: string; code?: string; readyState: number }>
  gaps: Array<{ requestedId: string; hubLastEventId: string }>
}
type TestWindow = { __clients?: Record<string, Recorded> }

/** Options for {@link connect}: what the page passes to `new SseClient`. */
interface Connect {
  name: string
  topic: string
  token: string | null
  lastEventId?: string
}

/**
 * Imports the hub's `/client.js` in the page and opens an `SseClient` there, recording what it
 * fires in `window.__clients[name]`.
 */
async function connect(page: Page, options: Connect): Promise<void> {
  await page.evaluate(async ({ name, topic, token, lastEventId }) => {
    // A variable keeps TypeScript from resolving the page's URL as a module of this repository.
    const path = '/client.js'
    const { SseClient } = (await import(path)) as typeof import('../../src/client/index.ts')
    const recorded: Recorded = { events: [], gaps: [] }
    const init: SseClientOptions = { topics: [topic], lastEventId: lastEventId ?? '' }
    // Called per connection: a real app would return its freshest token here. (Assigned, not
    // written inline: tsx names inline arrows with a helper the page does not have.)
    init.headers = () => (token === null ? {} : { authorization: `Bearer ${token}` })
    const client = new SseClient('/.well-known/mercure', init)
    const w = window as unknown as TestWindow
    w.__clients ??= {}
    w.__clients[name] = recorded
    client.onopen = () => recorded.events.push({ type: 'open', readyState: client.readyState })
    client.onmessage = (event) =>
      recorded.events.push({ type: 'message', data: event.data, readyState: client.readyState })
    client.onerror = (event) =>
      recorded.events.push({ type: 'error', code: event.code, readyState: client.readyState })
    client.ongap = (event) => {
      recorded.events.push({ type: 'gap', readyState: client.readyState })
      recorded.gaps.push({ requestedId: event.requestedId, hubLastEventId: event.hubLastEventId })
    }
  }, options)
}

/** Waits until the page's client `name` has logged `count` events of `type`. */
async function waitFor(page: Page, name: string, type: string, count = 1): Promise<Recorded> {
  await page.waitForFunction(
    ({ name, type, count }) => {
      const recorded = (window as unknown as TestWindow).__clients?.[name]
      return (recorded?.events.filter((event) => event.type === type).length ?? 0) >= count
    },
    { name, type, count },
    { timeout: 10_000 },
  )
  return page.evaluate((name) => {
    const recorded = (window as unknown as TestWindow).__clients?.[name]
    return { events: recorded?.events ?? [], gaps: recorded?.gaps ?? [] }
  }, name)
}

describe('ssehub/client in Chromium, loaded from the hub at /client.js', { skip }, () => {
  let hub: TestHub
  let browser: Browser
  let context: BrowserContext
  let page: Page
  before(async () => {
    hub = await startTestHub({ anonymous: false })
    browser = await launchBrowser()
    context = await browser.newContext()
    page = await context.newPage()
    await page.goto(`${hub.base}/`)
  })
  after(async () => {
    await context?.close()
    await browser?.close()
    await hub?.close()
  })

  it('receives a private update with a token sent in the Authorization header', async () => {
    const topic = 'https://example.com/users/ada/inbox'
    const token = await hub.token({ subscribe: ['*'] })
    await connect(page, { name: 'private', topic, token })
    await waitFor(page, 'private', 'open')
    await hub.publishOk({ topic, data: 'for Ada only', private: 'on' })
    const recorded = await waitFor(page, 'private', 'message')
    assert.deepEqual(
      recorded.events.map((event) => [event.type, event.data ?? event.readyState]),
      [
        ['open', 1],
        ['message', 'for Ada only'],
      ],
    )
  })

  it('is refused without a token, and stops: one error, readyState CLOSED', async () => {
    await connect(page, { name: 'anonymous', topic: 'https://example.com/public', token: null })
    const recorded = await waitFor(page, 'anonymous', 'error')
    assert.deepEqual(recorded.events, [{ type: 'error', code: 'http-status', readyState: 2 }])
  })

  it('fires gap after resuming from an id the hub does not know', async () => {
    const topic = 'https://example.com/users/ada/feed'
    const token = await hub.token({ subscribe: ['*'] })
    await hub.publishOk({ topic, data: 'published while away' })
    await connect(page, { name: 'gap', topic, token, lastEventId: 'urn:uuid:long-gone' })
    const recorded = await waitFor(page, 'gap', 'gap')
    assert.deepEqual(
      recorded.events.map((event) => event.type),
      ['open', 'gap'],
    )
    assert.deepEqual(recorded.gaps, [
      { requestedId: 'urn:uuid:long-gone', hubLastEventId: 'earliest' },
    ])
    await hub.publishOk({ topic, data: 'live again' })
    const after = await waitFor(page, 'gap', 'message')
    assert.deepEqual(
      after.events.filter((event) => event.type === 'message').map((event) => event.data),
      ['live again'],
    )
  })
})

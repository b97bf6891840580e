import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { artifactPath, browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'

const skip = browserSkipReason() ?? false

/** What the page records of one of its `EventSource`s. */
interface Received {
  data: string
  id: string
}
interface Tracked {
  source: EventSource
  events: Received[]
  opens: number
  errors: number
}
/** The page's `window`, with the streams these tests open. */
type TestWindow = { __streams?: Record<string, Tracked> }

/**
 * Opens a real `EventSource` in the page on the hub's `topic` selectors, records what it gets in
 * `window.__streams[name]`, and resolves once it is open (the hub has registered it by then).
 */
async function subscribe(page: Page, name: string, topics: readonly string[]): Promise<void> {
  await page.evaluate(
    ({ name, topics }) => {
      const w = window as unknown as TestWindow
      w.__streams ??= {}
      const url = new URL('/.well-known/mercure', location.origin)
      for (const topic of topics) url.searchParams.append('topic', topic)
      const tracked: Tracked = { source: new EventSource(url), events: [], opens: 0, errors: 0 }
      w.__streams[name] = tracked
      tracked.source.onopen = () => {
        tracked.opens++
      }
      tracked.source.onerror = () => {
        tracked.errors++
      }
      tracked.source.onmessage = (event) => {
        tracked.events.push({ data: event.data, id: event.lastEventId })
      }
    },
    { name, topics },
  )
  await waitForStream(page, name, 'opens', 1)
}

/** Waits until the stream's counter (`events`, `opens` or `errors`) reaches `count`. */
async function waitForStream(
  page: Page,
  name: string,
  what: 'events' | 'opens' | 'errors',
  count: number,
): Promise<void> {
  await page.waitForFunction(
    ({ name, what, count }) => {
      const tracked = (window as unknown as TestWindow).__streams?.[name]
      if (tracked === undefined) return false
      return (what === 'events' ? tracked.events.length : tracked[what]) >= count
    },
    { name, what, count },
    { timeout: 10_000 },
  )
}

/** What the stream received so far. */
function received(page: Page, name: string): Promise<Received[]> {
  return page.evaluate(
    (name) => (window as unknown as TestWindow).__streams?.[name]?.events ?? [],
    name,
  )
}

/** The data of what the stream received so far. */
async function receivedData(page: Page, name: string): Promise<string[]> {
  return (await received(page, name)).map((event) => event.data)
}

describe('Chromium EventSource against the hub', { skip }, () => {
  let hub: TestHub
  let browser: Browser
  let context: BrowserContext
  let page: Page
  before(async () => {
    hub = await startTestHub()
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub?.close()
  })

  // One context per test: its EventSources close with it, so no test eats into Chromium's six
  // connections per host (HTTP/1.1) of another.
  const newPage = async (): Promise<Page> => {
    context = await browser.newContext()
    page = await context.newPage()
    await page.goto(`${hub.base}/`)
    return page
  }
  const closePage = (): Promise<void> => context.close()

  it('receives updates for an exact topic, and not those for another topic', async () => {
    const page = await newPage()
    await subscribe(page, 'exact', ['urn:ssehub:test:exact'])
    await hub.publishOk({ topic: 'urn:ssehub:test:other', data: 'not for you' })
    await hub.publishOk({ topic: 'urn:ssehub:test:exact:more', data: 'a longer topic' })
    await hub.publishOk({ topic: 'urn:ssehub:test:exact', data: 'one' })
    await hub.publishOk({ topic: 'urn:ssehub:test:exact', data: 'two' })
    await waitForStream(page, 'exact', 'events', 2)
    assert.deepEqual(await receivedData(page, 'exact'), ['one', 'two'])
    await closePage()
  })

  it('receives an update through its alternate topic', async () => {
    const page = await newPage()
    await subscribe(page, 'alternate', ['urn:ssehub:test:alternate'])
    await hub.publishOk([
      ['topic', 'urn:ssehub:test:canonical'],
      ['topic', 'urn:ssehub:test:alternate'],
      ['data', 'by its second topic'],
    ])
    await hub.publishOk({ topic: 'urn:ssehub:test:alternate', data: 'marker' })
    await waitForStream(page, 'alternate', 'events', 2)
    assert.deepEqual(await receivedData(page, 'alternate'), ['by its second topic', 'marker'])
    await closePage()
  })

  it('receives updates for each of several topic selectors, once each', async () => {
    const page = await newPage()
    await subscribe(page, 'several', ['urn:ssehub:test:a', 'urn:ssehub:test:b'])
    await hub.publishOk({ topic: 'urn:ssehub:test:c', data: 'neither' })
    await hub.publishOk({ topic: 'urn:ssehub:test:a', data: 'for a' })
    await hub.publishOk({ topic: 'urn:ssehub:test:b', data: 'for b' })
    // Matching both selectors still makes one delivery.
    await hub.publishOk([
      ['topic', 'urn:ssehub:test:a'],
      ['topic', 'urn:ssehub:test:b'],
      ['data', 'for both'],
    ])
    await hub.publishOk({ topic: 'urn:ssehub:test:a', data: 'marker' })
    await waitForStream(page, 'several', 'events', 4)
    assert.deepEqual(await receivedData(page, 'several'), ['for a', 'for b', 'for both', 'marker'])
    await closePage()
  })

  it('receives updates for a URI topic and for a URI template, and skips what they do not match', async () => {
    const page = await newPage()
    await subscribe(page, 'uri', ['https://example.com/books/1'])
    await subscribe(page, 'template', ['https://example.com/books/{id}'])
    // Neither matches: another resource, and a sub-resource ({id} stops at "/").
    await hub.publishOk({ topic: 'https://example.com/authors/1', data: 'author 1' })
    await hub.publishOk({ topic: 'https://example.com/books/1/reviews', data: 'reviews of 1' })
    await hub.publishOk({ topic: 'https://example.com/books/2', data: 'book 2' })
    await hub.publishOk({ topic: 'https://example.com/books/1', data: 'book 1' })
    await waitForStream(page, 'template', 'events', 2)
    await waitForStream(page, 'uri', 'events', 1)
    assert.deepEqual(await receivedData(page, 'template'), ['book 2', 'book 1'])
    assert.deepEqual(await receivedData(page, 'uri'), ['book 1'])
    await closePage()
  })

  it('keeps private updates from an anonymous EventSource and gives them to one authorized by cookie', async () => {
    const page = await newPage()
    await subscribe(page, 'anonymous', ['https://example.com/users/ada'])
    const authorized = await browser.newContext()
    const { hostname } = new URL(hub.base)
    await authorized.addCookies([
      {
        name: 'mercureAuthorization',
        value: await hub.token({ subscribe: ['*'] }),
        domain: hostname,
        path: '/',
        httpOnly: true,
        sameSite: 'Strict',
      },
    ])
    const authorizedPage = await authorized.newPage()
    await authorizedPage.goto(`${hub.base}/`)
    await subscribe(authorizedPage, 'authorized', ['https://example.com/users/ada'])

    await hub.publishOk({ topic: 'https://example.com/users/ada', data: 'secret', private: 'on' })
    await hub.publishOk({ topic: 'https://example.com/users/ada', data: 'public marker' })
    await waitForStream(page, 'anonymous', 'events', 1)
    await waitForStream(authorizedPage, 'authorized', 'events', 2)
    assert.deepEqual(await receivedData(page, 'anonymous'), ['public marker'])
    assert.deepEqual(await receivedData(authorizedPage, 'authorized'), ['secret', 'public marker'])
    await authorized.close()
    await closePage()
  })

  it('delivers data exactly, blank lines and spaces included, with the publisher id as lastEventId', async () => {
    const page = await newPage()
    await subscribe(page, 'exactness', ['urn:ssehub:test:data'])
    const sent = [
      { data: '  first\n\n   third  ', id: 'urn:id:exact-1' },
      { data: 'caf\u00e9 \u2026 \u{1f600}\n', id: 'urn:id:\u2026\u00e9' },
      { data: '', id: 'urn:id:empty' },
      { data: 'line\r\nbreaks\rof every kind', id: 'urn:id:breaks' },
    ]
    for (const { data, id } of sent) {
      assert.equal(await hub.publishOk({ topic: 'urn:ssehub:test:data', data, id }), id)
    }
    await waitForStream(page, 'exactness', 'events', sent.length)
    assert.deepEqual(await received(page, 'exactness'), [
      { data: '  first\n\n   third  ', id: 'urn:id:exact-1' },
      { data: 'caf\u00e9 \u2026 \u{1f600}\n', id: 'urn:id:\u2026\u00e9' },
      { data: '', id: 'urn:id:empty' },
      // The format has one line break on the receiving side: CR and CRLF arrive as LF.
      { data: 'line\nbreaks\nof every kind', id: 'urn:id:breaks' },
    ])
    await closePage()
  })

  it('shows updates on the hub demo page', async () => {
    const context = await browser.newContext({ viewport: { width: 900, height: 640 } })
    const demo = await context.newPage()
    await demo.goto(`${hub.base}/demo/hub/`)
    await demo.waitForSelector('#state[data-state="open"]')
    const updates = [
      { data: 'Hello from the hub demo', id: 'urn:demo:1' },
      { data: 'Two lines:\n  the second indented', id: 'urn:demo:2' },
      { data: '<b>not bold</b>: data is text, never HTML', id: 'urn:demo:3' },
    ]
    for (const { data, id } of updates) {
      await hub.publishOk({ topic: 'https://example.com/demo', data, id })
    }
    await demo.waitForFunction(
      (count) => document.querySelectorAll('#updates li').length >= count,
      updates.length,
    )
    const shown = await demo.$$eval('#updates li', (items) =>
      items.map((item) => ({
        data: item.querySelector('.data')?.textContent,
        id: item.querySelector('small')?.textContent,
      })),
    )
    // Newest first.
    assert.deepEqual(shown, updates.toReversed())
    assert.equal(await demo.$$eval('#updates b', (bold) => bold.length), 0)
    assert.equal(await demo.isHidden('#empty'), true)
    await demo.screenshot({ path: artifactPath('hub-demo.png'), fullPage: true })
    await context.close()
  })
})

describe('Chromium EventSource across a hub-side close', { skip }, () => {
  let hub: TestHub
  let browser: Browser
  before(async () => {
    // Streams end after 1.2–1.5 s (lifetime randomized to 80–100 %): the browser reconnects.
    hub = await startTestHub({ maxLifetimeMs: 1500 })
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub?.close()
  })

  it('resumes with Last-Event-ID after the lifetime ends the stream: every update once, in order', async () => {
    const context = await browser.newContext()
    const page = await context.newPage()
    await page.goto(`${hub.base}/`)
    const topic = 'https://example.com/resume/{n}'
    await subscribe(page, 'resume', [topic])
    // A non-ASCII id, so the reconnection sends a Last-Event-ID the hub must decode as UTF-8.
    await hub.publishOk({ topic: 'https://example.com/resume/1', data: '1', id: 'urn:r:1-\u00e9' })
    await waitForStream(page, 'resume', 'events', 1)

    // The hub ends the stream; the browser goes back to CONNECTING and waits to reconnect.
    await waitForStream(page, 'resume', 'errors', 1)
    assert.equal(
      await page.evaluate(
        (name) => (window as unknown as TestWindow).__streams?.[name]?.source.readyState,
        'resume',
      ),
      0,
      'the EventSource is reconnecting, not closed',
    )
    await hub.publishOk({ topic: 'https://example.com/resume/2', data: '2', id: 'urn:r:2-\u2026' })
    await hub.publishOk({ topic: 'https://example.com/resume/3', data: '3', id: 'urn:r:3' })

    // Reconnected with Last-Event-ID: the two missed updates are replayed, then live ones follow.
    await waitForStream(page, 'resume', 'opens', 2)
    await hub.publishOk({ topic: 'https://example.com/resume/4', data: '4', id: 'urn:r:4' })
    await waitForStream(page, 'resume', 'events', 4)
    // Through one more hub-side close: nothing replayed twice.
    await waitForStream(page, 'resume', 'errors', 2)
    await hub.publishOk({ topic: 'https://example.com/resume/5', data: '5', id: 'urn:r:5' })
    await waitForStream(page, 'resume', 'events', 5)
    await waitForStream(page, 'resume', 'opens', 3)
    await hub.publishOk({ topic: 'https://example.com/resume/6', data: 'marker', id: 'urn:r:6' })
    await waitForStream(page, 'resume', 'events', 6)
    assert.deepEqual(await received(page, 'resume'), [
      { data: '1', id: 'urn:r:1-\u00e9' },
      { data: '2', id: 'urn:r:2-\u2026' },
      { data: '3', id: 'urn:r:3' },
      { data: '4', id: 'urn:r:4' },
      { data: '5', id: 'urn:r:5' },
      { data: 'marker', id: 'urn:r:6' },
    ])
    await context.close()
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { mintAccessToken } from '../../src/hub/mint-token.ts'
import { artifactPath, browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import { startTestHub, TEST_SECRET, type TestHub } from '../helpers/hub-server.ts'

const skip = browserSkipReason() ?? false

describe('the debug console in Chromium', { skip }, () => {
  let hub: TestHub
  let browser: Browser
  before(async () => {
    // The CLI's hub trusts the issuer `ssehub` (with its own keys) by default.
    hub = await startTestHub({
      subscriptions: true,
      anonymous: false,
      trustedIssuers: [{ issuer: 'ssehub' }],
    })
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub.close()
  })

  it('subscribes in 0.x, publishes any fields, shows raw events with ids and lists subscriptions', async () => {
    const token = await hub.token({
      publish: ['*'],
      subscribe: ['*'],
      payload: { user: 'console' },
    })
    const page = await browser.newPage()
    await page.goto(`${hub.base}/apps/console/`)
    await page.fill('#token', token)
    await page.check('#subscribe input[name=protocol][value="0.x"]')
    await page.fill('#subscribe textarea[name=topics]', 'https://example.com/books/{id}\nurn:other')
    await page.click('#subscribe button[type=submit]')
    await page.waitForSelector('#state[data-state="open"]')

    await page.fill('#publish textarea[name=topics]', 'https://example.com/books/1')
    await page.fill('#publish textarea[name=data]', '{"title":"Dune"}\n  second line')
    await page.fill('#publish input[name=id]', 'urn:console:1')
    await page.fill('#publish input[name=type]', 'book')
    await page.check('#publish input[name=private]')
    await page.click('#publish button[type=submit]')
    await page.waitForFunction(() => document.querySelectorAll('#events tr').length === 1)
    // The event and the publish's answer travel on two connections: either may come first.
    await page.waitForFunction(
      () => document.getElementById('publish-result')?.textContent !== '',
      undefined,
      { timeout: 5000 },
    )
    assert.equal(await page.textContent('#publish-result'), 'Published: urn:console:1')
    const cells = await page.$$eval('#events tr td', (tds) => tds.map((td) => td.textContent))
    assert.deepEqual(cells.slice(1), ['book', 'urn:console:1', '{"title":"Dune"}\n  second line'])

    await page.click('#refresh')
    await page.waitForFunction(() => document.querySelectorAll('#subscriptions tr').length === 2)
    const topics = await page.$$eval('#subscriptions tr td:first-child', (tds) =>
      tds.map((td) => td.textContent),
    )
    assert.deepEqual(topics.sort(), ['https://example.com/books/{id}', 'urn:other'])
    await page.screenshot({ path: artifactPath('console.png'), fullPage: true })

    await page.fill('#publish input[name=retry]', 'soon')
    await page.click('#publish button[type=submit]')
    await page.waitForFunction(() =>
      document.getElementById('publish-result')?.textContent?.startsWith('400'),
    )
    await page.close()
  })
  it('subscribes in 1.0 with match and match_urlpattern, the token as a header, and shows mercure events', async () => {
    const token = await mintAccessToken({
      key: TEST_SECRET,
      issuer: 'ssehub',
      audience: hub.hubUrl,
      publish: [{ match: '*' }],
      subscribe: [{ match: '*' }],
      payload: { user: 'console' },
    })
    const page = await browser.newPage()
    const streams: Array<{ url: string; authorization: string | undefined }> = []
    page.on('request', (request) => {
      if (request.url().includes('/.well-known/mercure?')) {
        streams.push({ url: request.url(), authorization: request.headers()['authorization'] })
      }
    })
    await page.goto(`${hub.base}/apps/console/`)
    assert.equal(await page.isChecked('#subscribe input[name=protocol][value="1.0"]'), true)
    await page.fill('#token', token)
    await page.fill('#subscribe textarea[name=match]', 'urn:console:exact')
    await page.fill(
      '#subscribe textarea[name=matchUrlPattern]',
      'https://example.com/books/:id\n/.well-known/mercure/subscriptions/:match_type/:match/:subscriber',
    )
    await page.click('#subscribe button[type=submit]')
    await page.waitForSelector('#state[data-state="open"]')
    const url = new URL(streams[0]?.url ?? '')
    assert.deepEqual(url.searchParams.getAll('match'), ['urn:console:exact'])
    assert.deepEqual(url.searchParams.getAll('match_urlpattern'), [
      'https://example.com/books/:id',
      '/.well-known/mercure/subscriptions/:match_type/:match/:subscriber',
    ])
    assert.equal(url.searchParams.get('gap'), '1')
    assert.equal(url.searchParams.has('authorization'), false)
    assert.equal(streams[0]?.authorization, `Bearer ${token}`)

    // Another subscriber on the exact topic: its subscription event reaches the console.
    const other = await browser.newPage()
    await other.goto(`${hub.base}/apps/console/`)
    await other.fill('#token', token)
    await other.fill('#subscribe textarea[name=match]', 'urn:console:exact')
    await other.click('#subscribe button[type=submit]')
    await other.waitForSelector('#state[data-state="open"]')
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#events tr td:nth-child(2)')].some(
        (td) => td.textContent === 'mercure',
      ),
    )
    const event = await page.$$eval('#events tr', (rows) =>
      rows
        .map((row) => [...row.querySelectorAll('td')].map((td) => td.textContent ?? ''))
        .find((cells) => cells[1] === 'mercure'),
    )
    const subscription = JSON.parse(event?.[3] ?? '{}')
    assert.equal(subscription.type, 'subscription')
    assert.equal(subscription.match_type, 'exact')
    assert.equal(subscription.match, 'urn:console:exact')
    assert.deepEqual(subscription.payload, { user: 'console' })

    await page.fill('#publish textarea[name=topics]', 'https://example.com/books/2')
    await page.fill('#publish textarea[name=data]', 'in 1.0')
    await page.fill('#publish input[name=id]', 'urn:console:2')
    await page.click('#publish button[type=submit]')
    await page.waitForFunction(() =>
      [...document.querySelectorAll('#events tr td:nth-child(3)')].some(
        (td) => td.textContent === 'urn:console:2',
      ),
    )

    await page.click('#refresh')
    await page.waitForFunction(() => document.querySelectorAll('#subscriptions tr').length >= 2)
    const matchers = await page.$$eval('#subscriptions tr td:first-child', (tds) =>
      tds.map((td) => td.textContent),
    )
    assert.ok(matchers.includes('exact: urn:console:exact'), JSON.stringify(matchers))
    assert.match((await page.textContent('#subscriptions-note')) ?? '', /^last event id: ./)
    await page.screenshot({ path: artifactPath('console-1.0.png'), fullPage: true })
    await other.close()
    await page.close()
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { artifactPath, browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'

const skip = browserSkipReason() ?? false

describe('the debug console in Chromium', { skip }, () => {
  let hub: TestHub
  let browser: Browser
  before(async () => {
    hub = await startTestHub({ subscriptions: true, anonymous: false })
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub.close()
  })

  it('subscribes, publishes any fields, shows raw events with ids and lists subscriptions', async () => {
    const token = await hub.token({
      publish: ['*'],
      subscribe: ['*'],
      payload: { user: 'console' },
    })
    const page = await browser.newPage()
    await page.goto(`${hub.base}/apps/console/`)
    await page.fill('#token', token)
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
})

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'

const skip = browserSkipReason() ?? false

describe('the hub demo page in Chromium, in each protocol', { skip }, () => {
  let hub: TestHub
  let browser: Browser
  before(async () => {
    hub = await startTestHub()
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub.close()
  })

  const cases = [
    { query: '', name: 'match', other: 'topic', label: 'Mercure 1.0 (match)' },
    { query: '&protocol=0.x', name: 'topic', other: 'match', label: 'Mercure 0.x (topic)' },
  ]
  for (const { query, name, other, label } of cases) {
    it(`subscribes anonymously with ${name}= and shows a public update (${label})`, async () => {
      const topic = `urn:ssehub:demo:${name}`
      const context = await browser.newContext()
      const page = await context.newPage()
      const streams: string[] = []
      page.on('request', (request) => {
        if (request.url().includes('/.well-known/mercure?')) streams.push(request.url())
      })
      await page.goto(`${hub.base}/demo/hub/?topic=${encodeURIComponent(topic)}${query}`)
      await page.waitForSelector('#state[data-state="open"]')
      assert.equal(await page.textContent('#protocol'), label)
      const url = new URL(streams[0] ?? '')
      assert.deepEqual(url.searchParams.getAll(name), [topic])
      assert.equal(url.searchParams.has(other), false)
      const id = await hub.publishOk({ topic, data: `hello over ${name}` })
      await page.waitForFunction(() => document.querySelectorAll('#updates li').length === 1)
      assert.equal(await page.textContent('#updates .data'), `hello over ${name}`)
      assert.equal(await page.textContent('#updates small'), id)
      await context.close()
    })
  }
})

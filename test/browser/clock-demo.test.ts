import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Browser } from 'playwright-core'
import { createSsehubServer } from '../../src/server/server.ts'
import { artifactPath, browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import { eventually } from '../helpers/raw-sse.ts'

const skip = browserSkipReason() ?? false

describe('the clock demo in Chromium', { skip }, () => {
  const hub = createSsehubServer({ heartbeatMs: 15_000 })
  let base = ''
  let browser: Browser
  before(async () => {
    base = (await hub.listen(0, '127.0.0.1')).url
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub.close()
  })

  it('shows each of two sessions its own id and the latest message, and stops on close', async () => {
    // Two contexts: two independent browser sessions, as the tutorial's "Sesión 1" and "Sesión 2".
    const sessions = await Promise.all([browser.newContext(), browser.newContext()])
    const pages = await Promise.all(sessions.map((context) => context.newPage()))
    await Promise.all(pages.map((page) => page.goto(`${base}/demo/clock/`)))
    const ids: string[] = []
    for (const page of pages) {
      await page.waitForFunction(() =>
        /Message #[1-9]/.test(document.getElementById('result')?.textContent ?? ''),
      )
      const text = (await page.textContent('#result')) ?? ''
      const match = /^([0-9a-f]{5}) - Message #\d+ from server sent on \S+ - RN: \d+$/.exec(text)
      assert.ok(match, `the result shows the latest message: ${text}`)
      ids.push(match[1] as string)
      assert.equal(await page.getAttribute('#state', 'data-state'), 'open')
    }
    assert.notEqual(ids[0], ids[1], 'two sessions, two ids')
    await pages[0]?.screenshot({ path: artifactPath('clock-demo.png') })
    assert.equal(hub.clock.active, 2)

    await sessions[0]?.close()
    await eventually(() => hub.clock.active === 1, 'the closed tab stopped its clock')
    await sessions[1]?.close()
    await eventually(() => hub.clock.active === 0, 'both clocks stopped')
  })
})

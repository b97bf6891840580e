import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { createSqliteStore } from '../../src/storage/sqlite.ts'
import { artifactPath, browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import { startTestHub, TEST_SECRET, type TestHub } from '../helpers/hub-server.ts'

const skip = browserSkipReason() ?? false

/** Opens the chat in a fresh browser session and joins `room` as `nickname`. */
async function joinChat(
  browser: Browser,
  base: string,
  nickname: string,
  room = 'lobby',
  requests: string[] = [],
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 760 } })
  const page = await context.newPage()
  page.on('request', (request) => requests.push(request.url()))
  await page.goto(`${base}/apps/chat/`)
  await page.fill('input[name=nickname]', nickname)
  await page.fill('input[name=room]', room)
  await page.click('#join button')
  await page.waitForSelector('#state[data-state="live"]')
  return page
}

const messagesOf = (page: Page) =>
  page.$$eval('#messages li:not(.notice)', (items) => items.map((item) => item.textContent ?? ''))
const membersOf = (page: Page) =>
  page.$$eval('#members li', (items) => items.map((item) => item.textContent ?? ''))

describe('the chat in Chromium', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-chat-'))
  const path = join(dir, 'chat.db')
  let store = createSqliteStore({ path })
  let hub: TestHub
  let browser: Browser
  // The CLI's hub trusts the issuer `ssehub` (with its own keys) by default: the chat's 1.0 tokens.
  const options = { subscriptions: true, anonymous: false, trustedIssuers: [{ issuer: 'ssehub' }] }
  before(async () => {
    hub = await startTestHub({ ...options, store }, { chat: { signingKey: TEST_SECRET } })
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('shows each user the other one’s message within a second, and who is online', async () => {
    const requests: string[] = []
    const ada = await joinChat(browser, hub.base, 'Ada', 'lobby', requests)
    const grace = await joinChat(browser, hub.base, 'Grace')
    await ada.waitForFunction(() => document.querySelectorAll('#members li').length === 2)
    assert.deepEqual(await membersOf(ada), ['Ada', 'Grace'])
    // Mercure 1.0: match and match_urlpattern, and no token in the URL (it is in the cookie).
    const stream = new URL(requests.find((url) => url.includes('/.well-known/mercure?')) ?? '')
    assert.deepEqual(stream.searchParams.getAll('match'), ['urn:ssehub:chat:lobby'])
    assert.equal(stream.searchParams.getAll('match_urlpattern').length, 1)
    assert.equal(stream.searchParams.has('topic'), false)
    assert.equal(stream.searchParams.has('authorization'), false)

    const sent = Date.now()
    await ada.fill('#send input', 'Hello Grace')
    await ada.click('#send button')
    await grace.waitForFunction(
      () => document.getElementById('messages')?.textContent?.includes('Hello Grace'),
      undefined,
      { timeout: 1000 },
    )
    assert.ok(Date.now() - sent < 1000)
    await grace.fill('#send input', 'Hi Ada')
    await grace.click('#send button')
    await ada.waitForFunction(
      () => document.getElementById('messages')?.textContent?.includes('Hi Ada'),
      undefined,
      { timeout: 1000 },
    )
    await ada.screenshot({ path: artifactPath('chat.png') })

    await grace.context().close()
    await ada.waitForFunction(() => document.querySelectorAll('#members li').length === 1)
    assert.deepEqual(await membersOf(ada), ['Ada'])
    await ada.context().close()
  })

  it('shows the recent history to someone joining later', async () => {
    const early = await joinChat(browser, hub.base, 'Early', 'history')
    for (const [i, text] of ['one', 'two', 'three'].entries()) {
      await early.fill('#send input', text)
      await early.click('#send button')
      await early.waitForFunction(
        (n) => document.querySelectorAll('#messages li').length === n,
        i + 1,
      )
    }
    const late = await joinChat(browser, hub.base, 'Late', 'history')
    await late.waitForFunction(() => document.querySelectorAll('#messages li').length === 3)
    assert.deepEqual(
      (await messagesOf(late)).map((text) => text.replace(/\d.*$/, '').trim()),
      ['Earlyone', 'Earlytwo', 'Earlythree'],
    )
    await early.context().close()
    await late.context().close()
  })

  it('renders a message containing HTML as text', async () => {
    const page = await joinChat(browser, hub.base, 'Mallory', 'xss')
    const attack = '<img src=x onerror="document.title=\'pwned\'">'
    await page.fill('#send input', attack)
    await page.click('#send button')
    await page.waitForFunction(() => document.querySelectorAll('#messages li').length === 1)
    assert.equal(await page.$$eval('#messages img', (images) => images.length), 0)
    assert.ok((await page.textContent('#messages'))?.includes(attack))
    assert.notEqual(await page.title(), 'pwned')
    await page.context().close()
  })

  it('loses no message when the hub restarts mid-chat, showing reconnecting then live', async () => {
    const ada = await joinChat(browser, hub.base, 'Ada', 'restart')
    await ada.fill('#send input', 'before')
    await ada.click('#send button')
    await ada.waitForFunction(() =>
      document.getElementById('messages')?.textContent?.includes('before'),
    )

    const port = Number(new URL(hub.base).port)
    await hub.close()
    await store.close()
    await ada.waitForSelector('#state[data-state="reconnecting"]')
    store = createSqliteStore({ path })
    hub = await startTestHub({ ...options, store }, { chat: { signingKey: TEST_SECRET } }, port)
    // Published while the page is still waiting to reconnect: it must arrive on resume.
    const res = await fetch(`${hub.base}/apps/chat/api/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: hub.base,
        cookie: await sessionCookie(ada),
      },
      body: JSON.stringify({ room: 'restart', text: 'during' }),
    })
    assert.equal(res.status, 200)
    await ada.waitForSelector('#state[data-state="live"]', { timeout: 15_000 })
    await ada.waitForFunction(() =>
      document.getElementById('messages')?.textContent?.includes('during'),
    )
    const texts = await messagesOf(ada)
    assert.equal(texts.filter((text) => text.includes('before')).length, 1)
    assert.equal(texts.filter((text) => text.includes('during')).length, 1)
    await ada.context().close()
  })
})

describe('the chat in Chromium, Mercure 0.x', { skip }, () => {
  let hub: TestHub
  let browser: Browser
  before(async () => {
    hub = await startTestHub(
      { subscriptions: true, anonymous: false },
      { chat: { signingKey: TEST_SECRET, protocol: '0.x' } },
    )
    browser = await launchBrowser()
  })
  after(async () => {
    await browser?.close()
    await hub.close()
  })

  it('subscribes with topic, shows messages and who is online from 0.x subscription events', async () => {
    const requests: string[] = []
    const ada = await joinChat(browser, hub.base, 'Ada', 'lobby', requests)
    const grace = await joinChat(browser, hub.base, 'Grace')
    await ada.waitForFunction(() => document.querySelectorAll('#members li').length === 2)
    assert.deepEqual(await membersOf(ada), ['Ada', 'Grace'])
    const stream = new URL(requests.find((url) => url.includes('/.well-known/mercure?')) ?? '')
    assert.equal(stream.searchParams.getAll('topic').length, 2)
    assert.equal(stream.searchParams.has('match'), false)
    await ada.fill('#send input', 'Hello in 0.x')
    await ada.click('#send button')
    await grace.waitForFunction(() =>
      document.getElementById('messages')?.textContent?.includes('Hello in 0.x'),
    )
    await grace.context().close()
    await ada.waitForFunction(() => document.querySelectorAll('#members li').length === 1)
    await ada.context().close()
  })
})

async function sessionCookie(page: Page): Promise<string> {
  const cookies = await page.context().cookies()
  return cookies.map((cookie) => `${cookie.name}=${cookie.value}`).join('; ')
}

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { Browser, Page, Request } from 'playwright-core'
import { browserSkipReason, launchBrowser } from './helpers/browser.ts'
import {
  type HubProcess,
  publisherToken,
  publishTo,
  startHubProcess,
} from './helpers/hub-process.ts'
import { type Nginx, nginxSkipReason, startNginx } from './helpers/nginx.ts'
import { sleep } from './helpers/raw-sse.ts'

const skip =
  browserSkipReason() ??
  nginxSkipReason(process.env['REQUIRE_BROWSER'] === '1', 'REQUIRE_BROWSER=1') ??
  false

const TOPIC = 'urn:restart'

/** What the page records of its `EventSource`, in `window.__log`. */
interface PageLog {
  opens: number
  /** `readyState` at each `error` event: 0 (reconnecting) or 2 (given up for good). */
  errors: number[]
  messages: Array<{ id: string; data: string }>
}
type TestWindow = { __log?: PageLog; __source?: EventSource }

function pageLog(page: Page): Promise<PageLog> {
  return page.evaluate(() => (window as unknown as TestWindow).__log as PageLog)
}

/**
 * Waits until `done(log)` holds, failing at once if the page's EventSource gave up (an `error`
 * with readyState CLOSED), and after `timeoutMs` otherwise.
 */
async function waitForPage(
  page: Page,
  what: string,
  done: (log: PageLog) => boolean,
  timeoutMs = 20_000,
): Promise<PageLog> {
  for (let waited = 0; ; waited += 100) {
    const log = await pageLog(page)
    assert.ok(
      !log.errors.includes(2),
      `the EventSource gave up for good (readyState CLOSED) while waiting for ${what}: ${JSON.stringify(log)}`,
    )
    if (done(log)) return log
    assert.ok(
      waited < timeoutMs,
      `timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(log)}`,
    )
    await sleep(100)
  }
}

/** A page on an origin of its own, so that the EventSource to nginx is cross-origin. */
async function startAppServer(): Promise<{ origin: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>app</title>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server }
}

describe('a browser EventSource behind nginx (docs/nginx.conf)', { skip }, () => {
  it('keeps retrying through a hub restart and resumes with Last-Event-ID, while publishes get an error', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-nginx-restart-'))
    const app = await startAppServer()
    // SQLite: the history outlives the restart, so the client can resume from its id.
    const env = { SSEHUB_STORE: `sqlite:${join(dir, 'hub.db')}`, SSEHUB_CORS_ORIGINS: app.origin }
    let hub: HubProcess | undefined
    let nginx: Nginx | undefined
    let browser: Browser | undefined
    try {
      hub = await startHubProcess(env)
      const { host, port } = new URL(hub.base)
      // One node, listed on both server lines of the documented upstream.
      nginx = await startNginx([host, host])
      const hubUrl = `${nginx.base}/.well-known/mercure`
      const token = await publisherToken()

      browser = await launchBrowser()
      const page = await browser.newPage()
      const requests: Request[] = []
      page.on('request', (request) => {
        if (request.url().startsWith(hubUrl)) requests.push(request)
      })
      await page.goto(`${app.origin}/`)
      await page.evaluate(
        (url) => {
          const log: PageLog = { opens: 0, errors: [], messages: [] }
          const source = new EventSource(url)
          const w = window as unknown as TestWindow
          w.__log = log
          w.__source = source
          // Assigned, not declared: tsx names declared functions with a helper the page lacks.
          source.onopen = () => {
            log.opens++
          }
          source.onerror = () => {
            log.errors.push(source.readyState)
          }
          source.onmessage = (event) => {
            log.messages.push({ id: event.lastEventId, data: event.data })
          }
        },
        `${hubUrl}?topic=${encodeURIComponent(TOPIC)}`,
      )
      await waitForPage(page, 'the first connection', (log) => log.opens >= 1)

      const first = await publishTo(hubUrl, token, {
        topic: TOPIC,
        id: `${TOPIC}:1`,
        data: 'before',
      })
      assert.equal(
        first.status,
        200,
        `the first publish: ${first.body}\n${nginx.errors()}\n${hub.output().slice(-2000)}`,
      )
      await waitForPage(page, 'the first update', (log) => log.messages.length >= 1)

      await hub.stop('SIGTERM')
      // Counted once the hub has exited: every open from here on is nginx's own answer.
      const { opens: opensBefore } = await pageLog(page)
      // Two reconnections: the browser's first, at its default delay, and one at nginx's retry.
      await waitForPage(page, 'two reconnections while the hub is down', (log) => {
        return log.opens >= opensBefore + 2
      })

      // What nginx answers while no node is up, to a subscriber and to everyone else.
      const subscribe = await fetch(`${hubUrl}?topic=${encodeURIComponent(TOPIC)}`, {
        headers: { accept: 'text/event-stream', origin: app.origin, 'last-event-id': `${TOPIC}:1` },
        signal: AbortSignal.timeout(10_000),
      })
      assert.equal(subscribe.status, 200, 'a subscription is answered 200 while the hub is down')
      assert.match(subscribe.headers.get('content-type') ?? '', /^text\/event-stream\b/)
      assert.equal(subscribe.headers.get('cache-control'), 'no-store')
      assert.equal(subscribe.headers.get('access-control-allow-origin'), app.origin)
      assert.match(await subscribe.text(), /^retry: \d+\n$/, 'holding only a retry field')
      const refused = await publishTo(hubUrl, token, { topic: TOPIC, id: `${TOPIC}:x`, data: 'x' })
      assert.ok(
        [502, 503].includes(refused.status),
        `a publish while the hub is down is an error, got ${refused.status}`,
      )
      const listing = await fetch(`${hubUrl}/subscriptions`, {
        signal: AbortSignal.timeout(10_000),
      })
      await listing.body?.cancel()
      assert.ok(
        [502, 503].includes(listing.status),
        `other requests keep the error, got ${listing.status}`,
      )

      hub = await startHubProcess(env, Number(port))
      // nginx may count the node down for a few seconds more (fail_timeout): a publisher retries
      // what was not acknowledged.
      let second = { status: 0, body: '' }
      for (let attempt = 0; attempt < 150 && second.status !== 200; attempt++) {
        if (attempt > 0) await sleep(100)
        second = await publishTo(hubUrl, token, { topic: TOPIC, id: `${TOPIC}:2`, data: 'after' })
        assert.ok([200, 502, 503].includes(second.status), `publish answered ${second.status}`)
      }
      assert.equal(second.status, 200, `the publish after the restart: ${second.body}`)

      const log = await waitForPage(page, 'the update published after the restart', (log) => {
        return log.messages.length >= 2
      })
      assert.deepEqual(
        log.messages,
        [
          { id: `${TOPIC}:1`, data: 'before' },
          { id: `${TOPIC}:2`, data: 'after' },
        ],
        'every update once, in order',
      )
      const readyState = await page.evaluate(
        () => (window as unknown as TestWindow).__source?.readyState,
      )
      assert.equal(readyState, 1, 'the EventSource is open')
      const resumedWith = await Promise.all(
        requests.slice(1).map(async (request) => (await request.allHeaders())['last-event-id']),
      )
      assert.ok(resumedWith.length >= 3, 'it reconnected while down, and after the restart')
      for (const id of resumedWith) assert.equal(id, `${TOPIC}:1`, 'every reconnection resumes')
    } finally {
      await browser?.close()
      await nginx?.stop()
      await hub?.stop('SIGKILL')
      await new Promise((resolve) => app.server.close(resolve))
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

// Browser SSE clients keep their place across a hub restart, straight to the hub and behind nginx
// (docs/nginx.conf): Chromium's own EventSource as the baseline, event-source-polyfill and
// @microsoft/fetch-event-source, each loaded into a page the way an application ships it. The
// Node clients: test/third-party-clients.test.ts.
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import type { fetchEventSource } from '@microsoft/fetch-event-source'
import { build } from 'esbuild'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { browserSkipReason, launchBrowser } from '../helpers/browser.ts'
import {
  assertKeptItsPlace,
  type ClientUnderTest,
  nginxScenarioSkipReason,
  type RestartOutcome,
  runRestartScenario,
  type Surfaced,
} from '../helpers/restart-scenario.ts'

const browserSkip = browserSkipReason()

/** What the page keeps of one client. */
interface PageClient {
  received: Surfaced[]
  failures: number
  gaveUp: boolean
  close(): void
}
/** The page's `window`: the libraries the page loaded, and the clients it runs. */
type TestWindow = {
  __clients?: Record<string, PageClient>
  EventSourcePolyfill?: new (url: string) => EventSource
  FetchEventSource?: { fetchEventSource: typeof fetchEventSource }
}

const require = createRequire(import.meta.url)

/** event-source-polyfill's own file, as a page includes it with a script tag. */
const POLYFILL_PATH = require.resolve('event-source-polyfill')

/** @microsoft/fetch-event-source, bundled as a bundler would for a page (ESM, no file extensions). */
async function fetchEventSourceScript(): Promise<string> {
  const result = await build({
    stdin: {
      contents: "export { fetchEventSource } from '@microsoft/fetch-event-source'",
      resolveDir: import.meta.dirname,
    },
    bundle: true,
    format: 'iife',
    globalName: 'FetchEventSource',
    platform: 'browser',
    write: false,
  })
  const output = result.outputFiles[0]
  if (output === undefined) throw new Error('esbuild produced no output')
  return output.text
}

/** A client the page runs; `open` starts it there under `name`. */
function pageClient(
  page: () => Page,
  name: string,
  open: (args: { name: string; url: string }) => void,
): ClientUnderTest {
  return {
    name,
    start: (url) => page().evaluate(open, { name, url }),
    state: async () =>
      (await page().evaluate((name) => {
        const client = (window as unknown as TestWindow).__clients?.[name]
        if (client === undefined) return undefined
        const { received, failures, gaveUp } = client
        return { received, failures, gaveUp }
      }, name)) ?? { received: [], failures: 0, gaveUp: false },
    async close() {
      await page().evaluate((name) => {
        ;(window as unknown as TestWindow).__clients?.[name]?.close()
      }, name)
    },
  }
}

/** Chromium's EventSource: the baseline the standard describes. */
const nativeEventSource = (page: () => Page): ClientUnderTest =>
  pageClient(page, 'EventSource', ({ name, url }) => {
    const w = window as unknown as TestWindow
    const source = new EventSource(url)
    const client: PageClient = {
      received: [],
      failures: 0,
      gaveUp: false,
      close: () => source.close(),
    }
    source.onmessage = (event) => {
      client.received.push({ id: event.lastEventId, data: event.data })
    }
    source.onerror = () => {
      client.failures++
      if (source.readyState === EventSource.CLOSED) client.gaveUp = true
    }
    w.__clients ??= {}
    w.__clients[name] = client
  })

/** event-source-polyfill with its defaults: it resumes with `?lastEventId=`. */
const eventSourcePolyfill = (page: () => Page): ClientUnderTest =>
  pageClient(page, 'event-source-polyfill', ({ name, url }) => {
    const w = window as unknown as TestWindow
    if (w.EventSourcePolyfill === undefined) throw new Error('the polyfill is not loaded')
    const source = new w.EventSourcePolyfill(url)
    const client: PageClient = {
      received: [],
      failures: 0,
      gaveUp: false,
      close: () => source.close(),
    }
    source.onmessage = (event) => {
      client.received.push({ id: event.lastEventId, data: event.data })
    }
    source.onerror = () => {
      client.failures++
      if (source.readyState === EventSource.CLOSED) client.gaveUp = true
    }
    w.__clients ??= {}
    w.__clients[name] = client
  })

/**
 * @microsoft/fetch-event-source as its README says to keep a stream open: `onclose` throws, so
 * that the end of a stream (the hub's shutdown) is retried like an error instead of ending it.
 */
const microsoftFetchEventSource = (page: () => Page): ClientUnderTest =>
  pageClient(page, '@microsoft/fetch-event-source', ({ name, url }) => {
    const w = window as unknown as TestWindow
    if (w.FetchEventSource === undefined) throw new Error('fetch-event-source is not loaded')
    const controller = new AbortController()
    const client: PageClient = {
      received: [],
      failures: 0,
      gaveUp: false,
      close: () => controller.abort(),
    }
    const ended = (): void => {
      if (!controller.signal.aborted) client.gaveUp = true
    }
    w.FetchEventSource.fetchEventSource(url, {
      signal: controller.signal,
      openWhenHidden: true,
      onmessage(message) {
        client.received.push({ id: message.id, data: message.data })
      },
      onclose() {
        throw new Error('the stream ended: reconnect')
      },
      onerror() {
        // Nothing returned: the library retries after its interval (1 s, or the server's retry).
        client.failures++
      },
    }).then(ended, ended)
    w.__clients ??= {}
    w.__clients[name] = client
  })

const clients = [nativeEventSource, eventSourcePolyfill, microsoftFetchEventSource]

let browser: Browser
let script: string
before(async () => {
  if (browserSkip !== null) return
  ;[browser, script] = await Promise.all([launchBrowser(), fetchEventSourceScript()])
})
after(async () => {
  await browser?.close()
})

for (const behindNginx of [false, true]) {
  const skip = browserSkip ?? ((behindNginx && nginxScenarioSkipReason()) || false)
  const path = behindNginx ? 'behind nginx with docs/nginx.conf' : 'straight to the hub'
  describe(`browser SSE clients in Chromium across a hub restart, ${path}`, { skip }, () => {
    let context: BrowserContext | undefined
    let page: Page | undefined
    const current = (): Page => {
      if (page === undefined) throw new Error('the page is not open yet')
      return page
    }
    let outcome: RestartOutcome
    before(async () => {
      context = await browser.newContext()
      // tsx compiles the functions given to `page.evaluate` with esbuild's `keepNames`, which
      // names functions through a `__name` helper the page does not have: give it one.
      await context.addInitScript({ content: 'globalThis.__name = (target) => target' })
      outcome = await runRestartScenario({
        clients: clients.map((make) => make(current)),
        behindNginx,
        // A blank page of the subscribers' origin (so every client is same-origin, as when a hub
        // is served under the application's own host), with each library loaded into it.
        async beforeStart(origin) {
          page = await (context as BrowserContext).newPage()
          const blank = `${origin}/third-party-clients.html`
          await page.route(blank, (route) =>
            route.fulfill({
              contentType: 'text/html',
              body: '<!doctype html><title>clients</title>',
            }),
          )
          await page.goto(blank)
          await page.unroute(blank)
          await page.addScriptTag({ path: POLYFILL_PATH })
          await page.addScriptTag({ content: script })
        },
      })
    })
    after(async () => {
      await context?.close()
    })
    for (const make of clients) {
      const { name } = make(current)
      it(`${name} ends with every update once, in order, and no event nobody published`, (t) => {
        t.diagnostic(assertKeptItsPlace(outcome, name))
      })
    }
  })
}

// Third-party SSE clients for Node keep their place across a hub restart, straight to the hub and
// behind nginx (docs/nginx.conf). The browser's clients: test/browser/third-party-clients.test.ts.
import { before, describe, it } from 'node:test'
import { EventSource } from 'eventsource'
import { EventSource as ExtendedEventSource } from 'extended-eventsource'
import {
  assertKeptItsPlace,
  type ClientUnderTest,
  nginxScenarioSkipReason,
  type RestartOutcome,
  runRestartScenario,
  type Surfaced,
} from './helpers/restart-scenario.ts'

/** The `eventsource` package: the WHATWG algorithm on `fetch`, as its README shows it. */
function eventsourcePackage(): ClientUnderTest {
  const received: Surfaced[] = []
  let failures = 0
  let source: EventSource | undefined
  return {
    name: 'eventsource',
    async start(url) {
      source = new EventSource(url)
      source.onmessage = (event) => {
        received.push({ id: event.lastEventId, data: event.data })
      }
      source.onerror = () => {
        failures++
      }
    },
    state: async () => ({
      received: [...received],
      failures,
      gaveUp: source?.readyState === EventSource.CLOSED,
    }),
    async close() {
      source?.close()
    },
  }
}

/**
 * `extended-eventsource`, with its defaults (5 s between attempts); only its logging is off. (Its
 * types do not resolve under `nodenext`, so it is typed `any` here.)
 */
function extendedEventsource(): ClientUnderTest {
  const received: Surfaced[] = []
  let failures = 0
  let source: ExtendedEventSource | undefined
  return {
    name: 'extended-eventsource',
    async start(url) {
      source = new ExtendedEventSource(url, { disableLogger: true })
      source.onmessage = (event: MessageEvent) => {
        received.push({ id: event.lastEventId, data: String(event.data) })
      }
      source.onerror = () => {
        failures++
      }
    },
    state: async () => ({
      received: [...received],
      failures,
      gaveUp: source?.readyState === source?.CLOSED,
    }),
    async close() {
      source?.close()
    },
  }
}

const clients = [eventsourcePackage, extendedEventsource]

for (const behindNginx of [false, true]) {
  const skip = (behindNginx && nginxScenarioSkipReason()) || false
  const path = behindNginx ? 'behind nginx with docs/nginx.conf' : 'straight to the hub'
  describe(`Node SSE clients across a hub restart, ${path}`, { skip }, () => {
    let outcome: RestartOutcome
    before(async () => {
      outcome = await runRestartScenario({ clients: clients.map((make) => make()), behindNginx })
    })
    for (const make of clients) {
      const { name } = make()
      it(`${name} ends with every update once, in order, and no event nobody published`, (t) => {
        t.diagnostic(assertKeptItsPlace(outcome, name))
      })
    }
  })
}

import assert from 'node:assert/strict'
import { createServer, get, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { createMetrics } from '../src/server/metrics.ts'
import type { WebhookEvent } from '../src/server/webhook-event.ts'
import {
  verifyWebhookSignature,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
} from '../src/server/webhook-signature.ts'
import { startHubProcess } from './helpers/hub-process.ts'
import { startTestHub } from './helpers/hub-server.ts'
import { distinctEvents } from './helpers/webhook-arrivals.ts'

// Presence webhooks end to end (issue #14, item 2): a real hub with the memory store, 1,000
// subscribers over real SSE connections, and a real receiver that refuses connections for the
// first 5 s, answers 503 for the next 5 s, then takes everything. After deduplication by id each
// of the 2,000 events must have arrived exactly once, each subscriber's subscribe before its
// unsubscribe, every signature valid.

const SECRET = 'webhook-test-secret-0123456789-abcdefghijklmnop'
const SUBSCRIBERS = 1000
const BATCH = 100
/** Every 10th subscriber has a token whose payload the events must carry. */
const WITH_PAYLOAD = 10

interface Arrival {
  readonly index: number
  readonly id: string | undefined
  readonly signature: string | undefined
  readonly body: string
  readonly status: number
  readonly at: number
}

/** A port nothing listens on yet (bound and released), for the receiver to take later. */
async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise((resolve) => probe.close(resolve))
  return port
}

/** The receiver: records every request; answers 503 while `down`, then 200. */
function receiver(arrivals: Arrival[], state: { down: boolean }): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const status = state.down ? 503 : 200
      arrivals.push({
        index: arrivals.length,
        id: req.headers[WEBHOOK_ID_HEADER] as string | undefined,
        signature: req.headers[WEBHOOK_SIGNATURE_HEADER] as string | undefined,
        body: Buffer.concat(chunks).toString('utf8'),
        status,
        at: Date.now(),
      })
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'down')
    })
  })
}

/** Opens one SSE subscription and resolves with its response once the hub answered 200. */
function subscribe(url: string, token: string | null): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/event-stream' }
    if (token !== null) headers['authorization'] = `Bearer ${token}`
    const req = get(url, { agent: false, headers }, (res) => {
      if (res.statusCode === 200) resolve(res)
      else reject(new Error(`subscription answered ${res.statusCode}`))
    })
    req.on('error', reject)
  })
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('presence webhooks, end to end', () => {
  it('deliver 1,000 subscribe/unsubscribe pairs exactly once after deduplication, in order per subscriber, signed, to a receiver down for its first 10 s', async (t) => {
    const port = await freePort()
    const arrivals: Arrival[] = []
    const state = { down: true }
    const metrics = createMetrics()
    const hub = await startTestHub(
      {},
      { metrics, webhooks: { urls: [`http://127.0.0.1:${port}/hooks/presence`], secret: SECRET } },
    )
    const started = Date.now()
    let recv: Server | null = null
    // Phase 1 (0–5 s): nothing listens, connections are refused. Phase 2 (5–10 s): 503.
    const phases = (async () => {
      await sleep(5000)
      recv = receiver(arrivals, state)
      await new Promise<void>((resolve) => recv?.listen(port, '127.0.0.1', resolve))
      await sleep(5000)
      state.down = false
    })()
    try {
      const url = (i: number) =>
        `${hub.hubUrl}?topic=${encodeURIComponent(`https://example.com/users/${i}`)}`
      for (let first = 0; first < SUBSCRIBERS; first += BATCH) {
        const batch: Promise<IncomingMessage>[] = []
        for (let i = first; i < first + BATCH; i++) {
          const token =
            i % WITH_PAYLOAD === 0 ? await hub.token({ payload: { user: `user-${i}` } }) : null
          batch.push(subscribe(url(i), token))
        }
        for (const res of await Promise.all(batch)) res.destroy()
      }
      // The hub forgets each subscriber once it sees its connection closed.
      const mercure = hub.server.mercure
      assert.ok(mercure)
      for (let i = 0; i < 500 && mercure.hub.subscribers.size > 0; i++) await sleep(20)
      assert.equal(mercure.hub.subscribers.size, 0, 'every subscriber disconnected')
      t.diagnostic(`1,000 pairs subscribed and closed in ${Date.now() - started} ms`)

      await phases
      const upAt = Date.now()
      const unique = () => new Set(arrivals.filter((a) => a.status === 200).map((a) => a.id)).size
      // Bounded wait: 120 s at most for the backlog to arrive, far beyond what it needs.
      for (let i = 0; i < 1200 && unique() < 2 * SUBSCRIBERS; i++) await sleep(100)
      const drainedMs = Date.now() - upAt
      const times = arrivals.filter((a) => a.status === 200).map((a) => a.at)
      const drainMs = Math.max(...times) - Math.min(...times)
      t.diagnostic(
        `2,000 events delivered ${drainedMs} ms after the receiver came up (${drainMs} ms from the first acknowledged to the last); ${arrivals.length} requests received (${arrivals.filter((a) => a.status === 503).length} answered 503)`,
      )

      const events = distinctEvents(SECRET, arrivals)
      const delivered = new Set(arrivals.filter((a) => a.status === 200).map((a) => a.id))
      assert.equal(delivered.size, 2 * SUBSCRIBERS, 'each of the 2,000 events acknowledged')
      assert.equal(events.size, 2 * SUBSCRIBERS, 'no event beyond the 2,000')

      const bySubscriber = new Map<
        string,
        {
          subscribe?: number
          unsubscribeFirst?: number
          subscribeLast?: number
          topic?: string | undefined
          payload?: unknown
          reason?: string | undefined
        }
      >()
      for (const { event, first, last } of events.values()) {
        const entry = bySubscriber.get(event.subscriber) ?? {}
        bySubscriber.set(event.subscriber, entry)
        if (event.type === 'subscribe') {
          assert.equal(entry.subscribe, undefined, `one subscribe for ${event.subscriber}`)
          entry.subscribe = first
          entry.subscribeLast = last
          entry.topic = event.selectors[0]?.match
          entry.payload = event.payload
        } else {
          assert.equal(entry.unsubscribeFirst, undefined, `one unsubscribe for ${event.subscriber}`)
          entry.unsubscribeFirst = first
          entry.reason = event.reason
        }
        assert.equal(event.protocol, '0.x')
        assert.equal(event.node, null, 'a memory store has no node id')
      }
      assert.equal(bySubscriber.size, SUBSCRIBERS, '1,000 distinct subscribers')
      let payloads = 0
      for (const [subscriber, entry] of bySubscriber) {
        assert.ok(entry.subscribe !== undefined && entry.unsubscribeFirst !== undefined, subscriber)
        // Every request of its subscribe, retries included, came before any of its unsubscribe.
        assert.ok(
          (entry.subscribeLast as number) < entry.unsubscribeFirst,
          `${subscriber}: subscribe before unsubscribe`,
        )
        assert.equal(entry.reason, 'client-closed')
        const i = Number(/users\/(\d+)$/.exec(entry.topic ?? '')?.[1])
        if (i % WITH_PAYLOAD === 0) {
          assert.deepEqual(entry.payload, { user: `user-${i}` })
          payloads++
        } else assert.equal(entry.payload, undefined)
      }
      assert.equal(payloads, SUBSCRIBERS / WITH_PAYLOAD)

      // Both kinds of outage were met and retried through.
      const text = await metrics.registry.metrics()
      const count = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? 0)
      assert.ok(count(/ssehub_webhook_deliveries_total\{[^}]*result="network-error"\} (\d+)/) > 0)
      assert.ok(count(/ssehub_webhook_deliveries_total\{[^}]*result="server-error"\} (\d+)/) > 0)
      assert.ok(arrivals.some((a) => a.status === 503))
      assert.equal(
        count(/ssehub_webhook_deliveries_total\{[^}]*result="success"\} (\d+)/),
        arrivals.filter((a) => a.status === 200).length,
      )
      assert.equal(count(/ssehub_webhook_queue_length\{[^}]*\} (\d+)/), 0)
      assert.doesNotMatch(text, /ssehub_webhook_events_dropped_total\{/)
    } finally {
      await phases
      await hub.close()
      const server = recv as Server | null
      server?.closeAllConnections()
      await new Promise((resolve) => (server === null ? resolve(null) : server.close(resolve)))
    }
  })

  it('are sent by the ssehub command from SSEHUB_WEBHOOK_URL, and a SIGTERM delivers the server-closed unsubscribe before exiting', async () => {
    const arrivals: Arrival[] = []
    const recv = receiver(arrivals, { down: false })
    await new Promise<void>((resolve) => recv.listen(0, '127.0.0.1', resolve))
    const { port } = recv.address() as AddressInfo
    const hub = await startHubProcess({
      SSEHUB_STORE: 'memory',
      SSEHUB_WEBHOOK_URL: `http://127.0.0.1:${port}/hooks?key=url-secret#subscribe,unsubscribe`,
      SSEHUB_WEBHOOK_SECRET: SECRET,
    })
    try {
      const res = await subscribe(`${hub.hubUrl}?topic=https://example.com/cli`, null)
      for (let i = 0; i < 250 && arrivals.length < 1; i++) await sleep(20)
      await hub.stop('SIGTERM')
      res.destroy()
      const events = arrivals.map((a) => JSON.parse(a.body) as WebhookEvent)
      assert.deepEqual(
        events.map((e) => `${e.type}:${e.reason ?? ''}`),
        ['subscribe:', 'unsubscribe:server-closed'],
      )
      assert.equal(events[0]?.subscriber, events[1]?.subscriber)
      assert.ok(arrivals.every((a) => verifyWebhookSignature(SECRET, a.signature, a.body)))
      assert.ok(!hub.output().includes(SECRET), 'the secret is never logged')
      assert.ok(!hub.output().includes('url-secret'), "a URL's query is never logged")
    } finally {
      await hub.stop()
      recv.closeAllConnections()
      await new Promise((resolve) => recv.close(resolve))
    }
  })
})

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import type { ClusterView, EventStore, LostNode } from '../hub/index.ts'
import type { Logger } from './logger.ts'
import { createMetrics } from './metrics.ts'
import {
  createPresenceWebhooks,
  type PresenceWebhookOptions,
  serverWebhooks,
} from './presence-webhooks.ts'
import type { WebhookEvent, WebhookSubscriber } from './webhook-event.ts'
import {
  verifyWebhookSignature,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
} from './webhook-signature.ts'
import { laneOf } from './webhook-target.ts'

const SECRET = 'presence-webhooks-test-secret-0123456789'

interface Received {
  readonly path: string
  readonly id: string
  readonly body: string
  readonly event: WebhookEvent
  readonly signed: boolean
}

/** A receiver on 127.0.0.1; `answer` decides each request's fate (it may never answer). */
async function startReceiver(
  answer: (req: IncomingMessage, res: ServerResponse, n: number) => void = (_req, res) =>
    res.end('ok'),
): Promise<{
  url: string
  received: Received[]
  close(): Promise<void>
}> {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      received.push({
        path: req.url ?? '',
        id: String(req.headers[WEBHOOK_ID_HEADER]),
        body,
        event: JSON.parse(body) as WebhookEvent,
        signed: verifyWebhookSignature(
          SECRET,
          req.headers[WEBHOOK_SIGNATURE_HEADER] as string,
          body,
        ),
      })
      answer(req, res, received.length)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A pino logger whose lines land in `lines`. */
function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const logger: Logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) })
  return { logger, lines }
}

function subscriber(n: number, extra: Partial<WebhookSubscriber> = {}): WebhookSubscriber {
  return {
    id: `urn:uuid:${randomUUID()}`,
    selectors: [`https://example.com/users/${n}`],
    claims: null,
    protocol: '0.x',
    ...extra,
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits, in bounded steps, until `done()` holds. */
async function until(done: () => boolean, what: string, steps = 500): Promise<void> {
  for (let i = 0; i < steps && !done(); i++) await sleep(20)
  assert.ok(done(), `timed out waiting until ${what}`)
}

/** A metric's value in the registry's text, 0 when absent. */
async function metric(
  registry: ReturnType<typeof createMetrics>['registry'],
  name: string,
  labels: string,
): Promise<number> {
  const text = await registry.metrics()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

/** A cluster of one node that never loses one, counting its `onNodeLost` listeners. */
function countingCluster(): { cluster: ClusterView; listening(): number } {
  let listening = 0
  const cluster: ClusterView = {
    nodeId: 'node-a',
    nodes: async () => [],
    onNodeLost: () => {
      listening++
      return () => {
        listening--
      }
    },
  }
  return { cluster, listening: () => listening }
}

function options(
  urls: string[],
  extra: Partial<PresenceWebhookOptions> = {},
): PresenceWebhookOptions {
  return { urls, secret: SECRET, ...extra }
}

describe('createPresenceWebhooks', () => {
  it('queues without waiting or throwing while the receiver hangs, up to 10,000 events, then drops and counts', async () => {
    const hanging: ServerResponse[] = []
    const receiver = await startReceiver((_req, res) => {
      hanging.push(res)
    })
    const { registry } = createMetrics()
    const { logger, lines } = capturingLogger()
    const webhooks = createPresenceWebhooks(
      options([`${receiver.url}/hooks`], { registry, logger, closeTimeoutMs: 200 }),
    )
    try {
      for (let i = 0; i < 10_000; i++) webhooks.subscribed(subscriber(i))
      // Nothing is sent in the caller's turn: the hub calls this while registering a subscriber.
      assert.equal(receiver.received.length, 0)
      assert.equal(webhooks.targets[0]?.queued, 10_000)
      assert.equal(await metric(registry, 'ssehub_webhook_events_dropped_total', 'queue-full'), 0)
      webhooks.subscribed(subscriber(10_000))
      assert.equal(webhooks.targets[0]?.queued, 10_000)
      assert.equal(await metric(registry, 'ssehub_webhook_events_dropped_total', 'queue-full'), 1)
      // The 8 lanes each hold one POST the receiver never answers; enqueueing still returns.
      await until(() => hanging.length === 8, '8 POSTs hang')
      webhooks.disconnected('client-closed', subscriber(10_001))
      assert.equal(await metric(registry, 'ssehub_webhook_events_dropped_total', 'queue-full'), 2)
      assert.equal(await metric(registry, 'ssehub_webhook_queue_length', 'target'), 10_000)
      assert.equal(
        lines.filter((l) => l.includes('webhook queue full')).length,
        1,
        'one line per interval',
      )
    } finally {
      const left = await webhooks.close()
      assert.equal(left, 10_000)
      await receiver.close()
    }
    assert.equal(await metric(registry, 'ssehub_webhook_events_dropped_total', 'shutdown'), 10_000)
    assert.equal(await metric(registry, 'ssehub_webhook_queue_length', 'target'), 0)
    assert.ok(lines.some((l) => l.includes('left undelivered at shutdown') && l.includes('10000')))
  })

  it('sends each URL only the events its fragment selects, node-lost ones included', async () => {
    const receiver = await startReceiver()
    let listener: ((node: LostNode) => void) | undefined
    let stopped = false
    const cluster: ClusterView = {
      nodeId: 'node-a',
      // Never answers: each event's node comes from `nodeId`, not from the listing.
      nodes: () => new Promise(() => {}),
      onNodeLost(next) {
        listener = next
        return () => {
          stopped = true
        }
      },
    }
    const webhooks = createPresenceWebhooks(
      options(
        [
          `${receiver.url}/all`,
          `${receiver.url}/joins#subscribe`,
          `${receiver.url}/leaves#unsubscribe`,
          `${receiver.url}/lost#node-lost`,
          `${receiver.url}/gone#unsubscribe,node-lost`,
        ],
        { cluster },
      ),
    )
    try {
      // No wait: this node's id is known from the start, its first event carries it.
      const ada = subscriber(1, {
        protocol: '1.0',
        selectors: ['\u0001https://example.com/users/ada', 'https://example.com/{id}'],
        claims: { subscribePayloads: [{ selectors: ['*'], payload: { name: 'Ada' } }] },
      })
      webhooks.subscribed(ada)
      webhooks.disconnected('lifetime', ada)
      assert.ok(listener, 'listens for lost nodes')
      listener({
        id: 'node-b',
        subscribers: [
          { id: 'urn:uuid:lost-1', selectors: ['https://example.com/a'], payload: { name: 'Bob' } },
          { id: 'urn:uuid:lost-2', selectors: ['*'] },
        ],
      })
      await until(
        () => receiver.received.length === 4 + 1 + 1 + 2 + 3,
        'every selected event arrived',
      )
      await sleep(50)
      assert.equal(receiver.received.length, 11, 'nothing unselected arrives later')
      const at = (path: string) =>
        receiver.received.filter((r) => r.path === path).map((r) => r.event)
      const kinds = (path: string) =>
        at(path)
          .map((e) => `${e.type}:${e.reason ?? ''}:${e.subscriber}`)
          .sort()
      assert.deepEqual(kinds('/joins'), [`subscribe::${ada.id}`])
      assert.deepEqual(kinds('/leaves'), [`unsubscribe:lifetime:${ada.id}`])
      assert.deepEqual(kinds('/lost'), [
        'unsubscribe:node-lost:urn:uuid:lost-1',
        'unsubscribe:node-lost:urn:uuid:lost-2',
      ])
      assert.deepEqual(kinds('/gone'), [...kinds('/leaves'), ...kinds('/lost')].sort())
      assert.deepEqual(kinds('/all'), [...kinds('/joins'), ...kinds('/gone')].sort())
      assert.ok(receiver.received.every((r) => r.signed && r.id === r.event.id))

      const [join] = at('/joins')
      assert.deepEqual(
        { ...join, id: undefined, time: undefined },
        {
          id: undefined,
          time: undefined,
          type: 'subscribe',
          node: 'node-a',
          subscriber: ada.id,
          protocol: '1.0',
          selectors: [
            { type: 'exact', match: 'https://example.com/users/ada' },
            { type: 'template', match: 'https://example.com/{id}' },
          ],
          payload: { name: 'Ada' },
        },
      )
      assert.ok(Number.isFinite(Date.parse(join?.time ?? '')))
      const lost = at('/lost').find((e) => e.subscriber === 'urn:uuid:lost-1')
      assert.deepEqual(
        { ...lost, id: undefined, time: undefined },
        {
          id: undefined,
          time: undefined,
          type: 'unsubscribe',
          node: 'node-b',
          subscriber: 'urn:uuid:lost-1',
          protocol: null,
          selectors: [{ type: 'exact', match: 'https://example.com/a' }],
          payload: { name: 'Bob' },
          reason: 'node-lost',
        },
      )
      // One event, one id, on every URL that takes it.
      assert.equal(new Set(at('/all').map((e) => e.id)).size, 4)
      assert.deepEqual(
        at('/joins').map((e) => e.id),
        at('/all')
          .filter((e) => e.type === 'subscribe')
          .map((e) => e.id),
      )
    } finally {
      await webhooks.close()
      await receiver.close()
    }
    assert.equal(stopped, true, 'stops listening to the cluster on close')
  })

  it('listens for lost nodes (and so, with Redis, claims them) only when a URL takes node-lost', async () => {
    const { cluster, listening } = countingCluster()
    const none = createPresenceWebhooks(
      options(
        ['https://app.example/a#subscribe,unsubscribe', 'https://app.example/b#unsubscribe'],
        {
          cluster,
        },
      ),
    )
    assert.equal(listening(), 0, 'no listener: a node that would drop the events must not claim')
    assert.equal(await none.close(), 0)
    const one = createPresenceWebhooks(
      options(['https://app.example/a#subscribe', 'https://app.example/b#node-lost'], { cluster }),
    )
    assert.equal(listening(), 1, 'one listener when one URL takes node-lost')
    assert.equal(await one.close(), 0)
    assert.equal(listening(), 0, 'stops listening on close')
  })

  it('gives up on an event refused for good (4xx, a redirect) and goes on with the next', async () => {
    const statuses = [400, 410, 302, 200]
    const receiver = await startReceiver((_req, res, n) => {
      const status = statuses[n - 1] ?? 200
      res.writeHead(status, status === 302 ? { location: 'http://127.0.0.1:9/elsewhere' } : {})
      res.end()
    })
    const { registry } = createMetrics()
    const { logger, lines } = capturingLogger()
    const webhooks = createPresenceWebhooks(
      options([`${receiver.url}/private/path?token=query-secret`], {
        registry,
        logger,
        lanes: 1,
        minBackoffMs: 10,
      }),
    )
    try {
      const subscribers = [0, 1, 2, 3].map((n) => subscriber(n))
      for (const s of subscribers) webhooks.subscribed(s)
      await until(() => webhooks.targets[0]?.queued === 0, 'the queue is empty')
      await sleep(50)
      assert.equal(receiver.received.length, 4, 'no refused event is sent again')
      assert.deepEqual(
        receiver.received.map((r) => r.event.subscriber),
        subscribers.map((s) => s.id),
      )
      assert.equal(await metric(registry, 'ssehub_webhook_events_dropped_total', 'rejected'), 3)
      assert.equal(
        await metric(registry, 'ssehub_webhook_deliveries_total', 'result="rejected"'),
        3,
      )
      assert.equal(await metric(registry, 'ssehub_webhook_deliveries_total', 'result="success"'), 1)
      assert.equal(await metric(registry, 'ssehub_webhook_retries_total', 'target'), 0)
      const refusals = lines.filter((l) => l.includes('refused an event for good'))
      assert.equal(refusals.length, 3)
      assert.ok(refusals.some((l) => l.includes('"status":410')))
      for (const line of lines) {
        assert.ok(
          !line.includes(SECRET) && !line.includes('query-secret') && !line.includes('/private'),
          line,
        )
      }
    } finally {
      await webhooks.close()
      await receiver.close()
    }
  })

  it('retries 5xx, 408, 429 and timeouts with the same bytes, Retry-After honoured within its bound, until delivered', async () => {
    const script: Array<(res: ServerResponse) => void> = [
      (res) => res.writeHead(503, { 'retry-after': '3600' }).end(),
      (res) => res.writeHead(429, { 'retry-after': '0' }).end(),
      (res) => res.writeHead(408).end(),
      (res) => res.writeHead(500).end(),
      () => {}, // never answered: the 200 ms timeout ends it
    ]
    const receiver = await startReceiver((_req, res, n) => {
      const step = script[n - 1]
      if (step === undefined) res.end('ok')
      else step(res)
    })
    const { registry } = createMetrics()
    // A 1 h Retry-After is cut to 50 ms: the test would hang for an hour otherwise.
    const webhooks = createPresenceWebhooks(
      options([`${receiver.url}/hooks`], {
        registry,
        timeoutMs: 200,
        minBackoffMs: 10,
        maxBackoffMs: 40,
        maxRetryAfterMs: 50,
      }),
    )
    try {
      webhooks.subscribed(subscriber(1))
      await until(() => webhooks.targets[0]?.queued === 0, 'delivered')
      assert.equal(receiver.received.length, 6)
      assert.equal(
        new Set(receiver.received.map((r) => r.body)).size,
        1,
        'the same bytes each time',
      )
      assert.ok(receiver.received.every((r) => r.signed))
      const count = (result: string) =>
        metric(registry, 'ssehub_webhook_deliveries_total', `result="${result}"`)
      assert.equal(await count('server-error'), 2)
      assert.equal(await count('throttled'), 2)
      assert.equal(await count('timeout'), 1)
      assert.equal(await count('success'), 1)
      assert.equal(await metric(registry, 'ssehub_webhook_retries_total', 'target'), 5)
      assert.equal(await metric(registry, 'ssehub_webhook_events_dropped_total', 'reason'), 0)
    } finally {
      await webhooks.close()
      await receiver.close()
    }
  })

  it('keeps retrying refused connections until close, then gives up within its grace and counts what is left', async () => {
    const receiver = await startReceiver()
    const url = `${receiver.url}/hooks`
    await receiver.close() // nothing listens there now: connections are refused
    const { registry } = createMetrics()
    const { logger, lines } = capturingLogger()
    const webhooks = createPresenceWebhooks(
      options([url], { registry, logger, minBackoffMs: 10, maxBackoffMs: 20, closeTimeoutMs: 100 }),
    )
    for (let i = 0; i < 3; i++) webhooks.subscribed(subscriber(i))
    await until(
      () => lines.some((l) => l.includes('webhook receiver failing')),
      'the failure is logged',
    )
    assert.equal(await webhooks.close(), 3)
    assert.ok((await metric(registry, 'ssehub_webhook_deliveries_total', 'network-error')) >= 1)
    assert.equal(await metric(registry, 'ssehub_webhook_events_dropped_total', 'shutdown'), 3)
    assert.equal(lines.filter((l) => l.includes('webhook receiver failing')).length, 1)
    // After close nothing is queued any more.
    webhooks.subscribed(subscriber(4))
    assert.equal(webhooks.targets[0]?.queued, 0)
    assert.equal(await metric(registry, 'ssehub_webhook_events_dropped_total', 'shutdown'), 4)
  })

  it('retries an event the receiver keeps failing at its own backoff, not after every success of the other lanes', async () => {
    const ids = Array.from(
      { length: 400 },
      (_, i) => `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    )
    const poison = ids.find((id) => laneOf(id, 2) === 0) as string
    const others = ids.filter((id) => laneOf(id, 2) === 1).slice(0, 50)
    assert.equal(others.length, 50)
    const receiver = await startReceiver((_req, res, n) => {
      res.writeHead(receiver.received[n - 1]?.event.subscriber === poison ? 500 : 200).end()
    })
    const webhooks = createPresenceWebhooks(
      options([`${receiver.url}/hooks`], { lanes: 2, minBackoffMs: 10_000, closeTimeoutMs: 100 }),
    )
    try {
      webhooks.subscribed(subscriber(0, { id: poison }))
      await until(() => receiver.received.length === 1, 'the poison event is sent')
      for (const id of others) webhooks.subscribed(subscriber(1, { id }))
      const delivered = () => receiver.received.filter((r) => r.event.subscriber !== poison).length
      await until(() => delivered() === 50, "the other lane's 50 events are delivered")
      const attempts = receiver.received.filter((r) => r.event.subscriber === poison).length
      // Without the once-per-event rule, each of the 50 successes would wake it: ~50 attempts.
      assert.ok(attempts >= 1 && attempts <= 2, `${attempts} attempts`)
      assert.equal(webhooks.targets[0]?.queued, 1)
    } finally {
      await webhooks.close()
      await receiver.close()
    }
  })

  it("keeps each subscriber's subscribe before its unsubscribe while a third of requests fail", async () => {
    // Every third request is answered 503: retries happen in every lane, all the time.
    const receiver = await startReceiver((_req, res, n) => {
      res.writeHead(n % 3 === 0 ? 503 : 200).end()
    })
    const webhooks = createPresenceWebhooks(
      options([`${receiver.url}/hooks`], { minBackoffMs: 2, maxBackoffMs: 10 }),
    )
    const subscribers = Array.from({ length: 300 }, (_, i) => subscriber(i))
    try {
      // Interleaved as a hub sees them: joins and leaves of many subscribers mixed.
      for (let i = 0; i < subscribers.length; i++) {
        webhooks.subscribed(subscribers[i] as WebhookSubscriber)
        if (i >= 10)
          webhooks.disconnected('client-closed', subscribers[i - 10] as WebhookSubscriber)
      }
      for (const s of subscribers.slice(-10)) webhooks.disconnected('client-closed', s)
      await until(() => webhooks.targets[0]?.queued === 0, 'all delivered', 1500)
      const arrivals = receiver.received
      assert.ok(arrivals.length >= 600 * 1.4, `${arrivals.length} requests: a third failed`)
      for (const s of subscribers) {
        const mine = arrivals
          .map((r, i) => ({ ...r, i }))
          .filter((r) => r.event.subscriber === s.id)
        const lastJoin = Math.max(
          ...mine.filter((r) => r.event.type === 'subscribe').map((r) => r.i),
        )
        const firstLeave = Math.min(
          ...mine.filter((r) => r.event.type === 'unsubscribe').map((r) => r.i),
        )
        assert.ok(lastJoin < firstLeave, `${s.id}: subscribe before unsubscribe`)
        assert.equal(new Set(mine.map((r) => r.id)).size, 2)
      }
    } finally {
      await webhooks.close()
      await receiver.close()
    }
  })

  it('refuses a short secret and unusable URLs without quoting them, and warns of plain http off loopback', async () => {
    assert.throws(
      () => createPresenceWebhooks({ urls: ['https://a.example/h'], secret: 'x'.repeat(31) }),
      (error: unknown) => error instanceof RangeError && !error.message.includes('xxxx'),
    )
    assert.throws(() => createPresenceWebhooks({ urls: [], secret: SECRET }), TypeError)
    assert.throws(
      () =>
        createPresenceWebhooks(options(['https://a.example/ok', 'mailto:token-123@example.com'])),
      (error: unknown) =>
        error instanceof TypeError &&
        /URL 2/.test(error.message) &&
        !error.message.includes('token-123'),
    )
    const { logger, lines } = capturingLogger()
    const webhooks = createPresenceWebhooks(
      options(
        [
          'http://app.example/h',
          'https://app.example/h',
          'http://127.0.0.1:9/h',
          'http://localhost:9/h',
        ],
        { logger },
      ),
    )
    assert.equal(lines.filter((l) => l.includes('plain http')).length, 1)
    assert.deepEqual(
      webhooks.targets.map((t) => t.label),
      ['http://app.example', 'https://app.example', 'http://127.0.0.1:9', 'http://localhost:9'],
    )
    assert.equal(await webhooks.close(), 0)
  })

  it("serverWebhooks: none without options; with them, the cluster of the hub's store is watched", async () => {
    const { logger } = capturingLogger()
    assert.equal(serverWebhooks({}, logger), null)
    assert.equal(serverWebhooks({ webhooks: null }, logger), null)
    const { cluster, listening } = countingCluster()
    const store = { cluster } as unknown as EventStore
    const webhooks = serverWebhooks(
      { webhooks: options(['https://app.example/h']), mercure: { store } },
      logger,
    )
    assert.ok(webhooks)
    assert.equal(listening(), 1)
    assert.equal(await webhooks.close(), 0)
  })
})

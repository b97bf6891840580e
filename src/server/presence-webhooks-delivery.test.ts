import assert from 'node:assert/strict'
import type { ServerResponse } from 'node:http'
import { describe, it } from 'node:test'
import {
  capturingLogger,
  metric,
  options,
  SECRET,
  sleep,
  startReceiver,
  subscriber,
  until,
} from '../../test/helpers/presence-webhook-fakes.ts'
import { createMetrics } from './metrics.ts'
import { createPresenceWebhooks } from './presence-webhooks.ts'
import type { WebhookSubscriber } from './webhook-event.ts'
import { laneOf } from './webhook-target.ts'

// How the presence webhooks deliver: a bounded queue, refusals given up, retries with the same
// bytes, and each subscriber's events in order. What they send, and to which URL, is in
// presence-webhooks.test.ts.

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
      // The receiver records a request before it answers, so the last of the 50 may still be
      // in flight (queued) at this point: wait for its answer, leaving only the poison event.
      await until(() => webhooks.targets[0]?.queued === 1, 'only the poison event is queued')
      const attempts = receiver.received.filter((r) => r.event.subscriber === poison).length
      // Without the once-per-event rule, each of the 50 successes would wake it: ~50 attempts.
      assert.ok(attempts >= 1 && attempts <= 2, `${attempts} attempts`)
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
})

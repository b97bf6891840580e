import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMetrics } from '../src/server/metrics.ts'
import { createMemoryStore } from '../src/storage/memory.ts'
import { startTestHub } from './helpers/hub-server.ts'
import { eventually } from './helpers/raw-sse.ts'
import { subscribeSse } from './helpers/sse-events.ts'
import { storeWith } from './helpers/store-with.ts'

describe('health, readiness and metrics', () => {
  it('answers /healthz and /readyz, and /readyz 503 when the store cannot take writes', async () => {
    const store = createMemoryStore()
    let up = true
    // The memory store, except that readiness is ours to switch.
    const flaky = storeWith(store, { ready: async () => up })
    const hub = await startTestHub({ store: flaky })
    try {
      assert.equal((await fetch(`${hub.base}/healthz`)).status, 200)
      assert.equal((await fetch(`${hub.base}/readyz`)).status, 200)
      up = false
      const res = await fetch(`${hub.base}/readyz`)
      assert.equal(res.status, 503)
      assert.match(await res.text(), /not ready/)
    } finally {
      await hub.close()
      await store.close()
    }
  })

  it('exposes subscribers, published and delivered updates, disconnections and publish latency', async () => {
    const metrics = createMetrics()
    const hub = await startTestHub({}, { metrics })
    try {
      const a = await subscribeSse(`${hub.hubUrl}?topic=urn:m`)
      const b = await subscribeSse(`${hub.hubUrl}?topic=urn:m`)
      await hub.publishOk({ topic: 'urn:m', data: 'x' })
      await Promise.all([a.waitForEvents(1), b.waitForEvents(1)])
      const text = await (await fetch(`${hub.base}/metrics`)).text()
      assert.match(text, /^ssehub_subscribers 2$/m)
      assert.match(text, /^ssehub_updates_published_total 1$/m)
      assert.match(text, /^ssehub_updates_delivered_total 2$/m)
      assert.match(text, /^ssehub_publish_duration_seconds_count 1$/m)
      assert.match(text, /^ssehub_history_size 1$/m)
      a.close()
      b.close()
      await eventually(() => hub.server.openStreams === 0, 'both streams closed on the server')
      const after = await (await fetch(`${hub.base}/metrics`)).text()
      assert.match(after, /^ssehub_disconnections_total\{reason="client-closed"\} 2$/m)
      assert.match(after, /^ssehub_subscribers 0$/m)
    } finally {
      await hub.close()
    }
  })
})

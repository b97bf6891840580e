// Issue #11, item 4: an update's id comes back to the hub as the Last-Event-ID header of every
// subscriber that received it. A publish with a 20,000-character id used to be accepted and
// delivered; at their next reconnection its subscribers sent it back, got 431 (Node's 16 KiB
// header limit) and SseClient stopped for good. Now an id (and a type) over its limit is refused
// with a 400 that names the field and the limit, nothing is stored or delivered, and an id at the
// limit is accepted and resumable.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createClient } from '../../src/client/sse-client.ts'
import { logClient } from '../helpers/client-log.ts'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'
import { sleep } from '../helpers/raw-sse.ts'
import { subscribeSse } from '../helpers/sse-events.ts'

const TOPIC = 'https://example.com/long-ids'
/** The documented default of `--max-id-bytes` (`DEFAULT_MAX_ID_BYTES`). */
const DEFAULT_MAX_ID_BYTES = 256
/** An id one byte within the limit, of multi-byte characters: the limit counts UTF-8 bytes. */
const AT_LIMIT = `urn:${'é'.repeat((DEFAULT_MAX_ID_BYTES - 4) / 2)}`

/** [spec] the header carries the id as UTF-8 bytes; Node takes a header value as latin1. */
function toLatin1(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1')
}

describe('publishing an id too long for a Last-Event-ID header', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub()
  })
  after(() => hub.close())

  for (const [name, id] of [
    ['a 20,000-character id', `urn:${'x'.repeat(19_996)}`],
    ['a 2 KiB id', `urn:${'x'.repeat(2044)}`],
  ] as const) {
    it(`refuses ${name} with 400 naming the "id" field and its limit, and stores nothing`, async () => {
      const watcher = await subscribeSse(`${hub.hubUrl}?topic=${encodeURIComponent(TOPIC)}`)
      try {
        const res = await hub.publish({ topic: TOPIC, id, data: 'never delivered' })
        const text = await res.text()
        assert.equal(res.status, 400)
        assert.match(text, /"id"/)
        assert.match(text, new RegExp(`${DEFAULT_MAX_ID_BYTES} bytes`))
        assert.doesNotMatch(text, /xxxx/, 'the id is not echoed')
        // What a refusal looks like: nothing, for as long as a delivery would take on loopback.
        await sleep(150)
        assert.deepEqual(watcher.events, [])
        assert.equal(await hub.server.mercure?.store.find(id), null, 'not in the history')
      } finally {
        watcher.close()
      }
    })
  }

  it('refuses a "type" over 256 bytes with 400 naming the field and its limit', async () => {
    const res = await hub.publish({ topic: TOPIC, type: 't'.repeat(257), data: 'x' })
    assert.equal(res.status, 400)
    assert.match(await res.text(), /"type" is longer than 256 bytes/)
    assert.equal(
      (await hub.publish({ topic: TOPIC, type: 't'.repeat(256), data: 'x' })).status,
      200,
    )
  })

  it('accepts an id at the limit, and a subscriber resumes from it through Last-Event-ID', async () => {
    const topic = `${TOPIC}/at-limit`
    assert.equal(Buffer.byteLength(AT_LIMIT), DEFAULT_MAX_ID_BYTES)
    assert.equal(await hub.publishOk({ topic, id: AT_LIMIT, data: 'first' }), AT_LIMIT)
    await hub.publishOk({ topic, id: 'urn:second', data: 'second' })
    const resumed = await subscribeSse(`${hub.hubUrl}?topic=${encodeURIComponent(topic)}`, {
      'last-event-id': toLatin1(AT_LIMIT),
    })
    try {
      assert.equal(resumed.status, 200)
      const [event] = await resumed.waitForEvents(1)
      assert.equal(event?.data, 'second', 'replayed from just after the id at the limit')
    } finally {
      resumed.close()
    }
  })

  it('answers 431 to a request head over maxHeaderBytes, set on the server, not left to Node', async () => {
    const small = await startTestHub({}, { maxHeaderBytes: 8192 })
    try {
      const url = `${small.hubUrl}?topic=*`
      const fits = await subscribeSse(url, { 'last-event-id': 'x'.repeat(6000) })
      fits.close()
      assert.equal(fits.status, 200)
      const over = await subscribeSse(url, { 'last-event-id': 'x'.repeat(10_000) })
      over.close()
      assert.equal(over.status, 431)
    } finally {
      await small.close()
    }
  })

  it('keeps the subscribers of the topic resuming across reconnections after long-id publishes', async () => {
    // Streams end every 240–300 ms, so the client reconnects several times with its last id.
    const ending = await startTestHub({ maxLifetimeMs: 300 }, { heartbeatMs: 50 })
    const topic = `${TOPIC}/reconnecting`
    const client = createClient(ending.hubUrl, {
      topics: [topic],
      lastEventId: 'earliest',
      initialRetryMs: 10,
      healthyAfterMs: 100,
      inactivityTimeoutMs: 1000,
    })
    const log = logClient(client)
    try {
      await log.waitFor('open')
      await ending.publishOk({ topic, id: 'urn:before', data: 'before' })
      await log.waitFor('message', 1)
      const statuses: number[] = []
      for (const id of [`urn:${'x'.repeat(2044)}`, `urn:${'y'.repeat(19_996)}`]) {
        const res = await ending.publish({ topic, id, data: 'long' })
        statuses.push(res.status)
        await res.arrayBuffer()
      }
      // Past at least one lifetime end: the reconnection sends the last id the client saw (had
      // the long id been delivered, that reconnection would get 431 and the client would stop).
      await sleep(700)
      await ending.publishOk({ topic, id: 'urn:after', data: 'after' })
      await log.until((events) => events.some((event) => event.data === 'after'), 5000)
      assert.deepEqual(statuses, [400, 400])
      assert.deepEqual(log.data(), ['before', 'after'])
      assert.ok(log.of('error').length >= 1, 'the client did reconnect')
      assert.ok(
        log.of('error').every((event) => event.code === 'stream-ended'),
        `no refused reconnection: ${JSON.stringify(log.of('error'))}`,
      )
      assert.notEqual(client.readyState, client.CLOSED)
    } finally {
      client.close()
      await ending.close()
    }
  })
})

import assert from 'node:assert/strict'
import { createServer, type ServerResponse } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { encodeEvent } from '../src/core/encode.ts'
import type { EventStream } from '../src/core/event-stream.ts'
import { openEventStream } from '../src/http/event-stream-response.ts'
import { eventually, openRawSse, sleep } from './helpers/raw-sse.ts'

const MAX_QUEUE = 256 * 1024
const EVENT_SIZE = 10 * 1024
const BATCH = 10
const EVENTS = 3000

describe('a client that stops reading', () => {
  const streams: Array<{ stream: EventStream; res: ServerResponse }> = []
  let port = 0
  const server = createServer((req, res) => {
    streams.push({ stream: openEventStream(req, res, { maxQueueBytes: MAX_QUEUE }), res })
  })
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  after(async () => {
    for (const { stream } of streams) stream.close()
    await new Promise((resolve) => server.close(resolve))
  })

  it('is disconnected once its queue passes the bound, while others keep receiving', async () => {
    // The slow client: sends a request, then never reads, so the kernel's buffers fill and
    // Node's write() starts returning false.
    const slow = connect(port, '127.0.0.1')
    slow.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n`)
    slow.pause()
    slow.on('error', () => {})
    await eventually(() => streams.length === 1, 'slow client connected')
    const fast = await openRawSse(`http://127.0.0.1:${port}/`)
    await eventually(() => streams.length === 2, 'fast client connected')
    const [slowEnd, fastEnd] = streams as [(typeof streams)[0], (typeof streams)[0]]

    let maxHeld = 0
    for (let sent = 0; sent < EVENTS; sent += BATCH) {
      for (let i = 0; i < BATCH; i++) {
        const bytes = encodeEvent({ id: String(sent + i), data: 'x'.repeat(EVENT_SIZE) })
        slowEnd.stream.write(bytes)
        fastEnd.stream.write(bytes)
      }
      const held =
        slowEnd.stream.queuedBytes + (slowEnd.res.destroyed ? 0 : slowEnd.res.writableLength)
      maxHeld = Math.max(maxHeld, held)
      // Let the fast client read, and yield to the event loop between bursts as a real hub would.
      await new Promise((resolve) => setImmediate(resolve))
      if (fastEnd.stream.paused) await fastEnd.stream.drained()
    }

    assert.equal(slowEnd.stream.closeReason, 'overflow')
    assert.equal(fastEnd.stream.closed, false, 'the reading client is not affected')
    // What the server held for the slow client: its own queue plus Node's socket buffer, which
    // takes at most one batch past its high-water mark before write() says "wait".
    const bound = MAX_QUEUE + BATCH * (EVENT_SIZE + 64) + slowEnd.res.writableHighWaterMark
    assert.ok(maxHeld <= bound, `held ${maxHeld} bytes for the slow client, bound ${bound}`)

    const lastId = `id: ${EVENTS - 1}\n`
    await fast.waitFor((t) => t.includes(lastId), 20_000)
    const ids = [...fast.text().matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]))
    assert.equal(ids.length, EVENTS, 'the fast client received every event')
    assert.ok(
      ids.every((id, i) => id === i),
      'in order, without gaps or duplicates',
    )
    fast.abort()
    await sleep(10)
    slow.destroy()
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeEvent } from '../core/encode.ts'
import { eventStreamResponse } from './event-stream-response.ts'

const decoder = new TextDecoder()

/** A GET for a stream, with a way to abort it as a runtime does when the client goes away. */
function streamRequest(): { request: Request; abort: () => void } {
  const controller = new AbortController()
  const request = new Request('http://localhost/events', { signal: controller.signal })
  return { request, abort: () => controller.abort() }
}

/** Resolves after one turn of the event loop: the core stream flushes its writes then. */
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('eventStreamResponse', () => {
  it('answers 200 with the SSE headers over the extra ones, and the opening comment first', async () => {
    const { request } = streamRequest()
    const { response, stream } = eventStreamResponse(request, {
      retry: 3000,
      headers: { link: '</hub>; rel="mercure"', 'content-type': 'text/plain' },
    })
    assert.equal(response.status, 200)
    assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8')
    assert.match(response.headers.get('cache-control') ?? '', /no-cache.*no-transform/)
    assert.equal(response.headers.get('x-accel-buffering'), 'no')
    assert.equal(response.headers.get('connection'), null)
    assert.equal(response.headers.get('link'), '</hub>; rel="mercure"')
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const first = await reader.read()
    assert.equal(decoder.decode(first.value), ': ok\nretry: 3000\n')
    stream.close()
  })

  it('hands the events written in one turn to the body as one chunk', async () => {
    const { request } = streamRequest()
    const { response, stream } = eventStreamResponse(request, { openingComment: 'hi' })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    stream.send({ id: '1', data: 'a' })
    stream.send({ id: '2', data: 'b' })
    const { value } = await reader.read()
    assert.equal(decoder.decode(value), 'id: 1\ndata: a\n\nid: 2\ndata: b\n\n')
    stream.close()
    assert.equal((await reader.read()).done, true, 'a clean close ends the body')
  })

  it('holds writes once the body holds its high-water mark, and resumes as the reader takes them', async () => {
    const { request } = streamRequest()
    const { response, stream } = eventStreamResponse(request, { highWaterMark: 1024 })
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    const big = encodeEvent({ data: 'x'.repeat(4096) })
    stream.write(big)
    await nextTurn()
    assert.equal(stream.paused, true, 'the body refused more: the stream waits')
    stream.write(big)
    await nextTurn()
    assert.equal(stream.queuedBytes, big.byteLength, 'the second write waits in the core queue')
    // The opening comment and the first event, written in one turn, went as one chunk. Taking it
    // makes the body pull: the stream resumes and hands it the second event.
    await reader.read()
    await nextTurn()
    assert.equal(stream.queuedBytes, 0)
    const { value } = await reader.read()
    assert.equal(value?.byteLength, big.byteLength)
    assert.equal(stream.closed, false)
    stream.close()
  })

  it('cuts a client that takes nothing once it failed to take more than maxQueueBytes, erroring the body', async () => {
    const { request } = streamRequest()
    const reasons: string[] = []
    const { response, stream } = eventStreamResponse(request, {
      highWaterMark: 1024,
      maxQueueBytes: 16_384,
      onClose: (reason) => reasons.push(reason),
    })
    const chunk = encodeEvent({ data: 'y'.repeat(1000) })
    let writes = 0
    // Bounded: the bound is passed well before 100 writes of 1 KB.
    while (!stream.closed && writes < 100) {
      stream.write(chunk)
      writes++
      await nextTurn()
    }
    assert.deepEqual(reasons, ['overflow'])
    assert.ok(writes < 30, `cut after ${writes} writes`)
    assert.equal(stream.queuedBytes, 0, 'the queue is released')
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await assert.rejects(
      (async () => {
        for (;;) if ((await reader.read()).done) return
      })(),
      /cut/,
    )
  })

  it("closes with client-closed when the request's signal aborts, and ends the body", async () => {
    const { request, abort } = streamRequest()
    const { response, stream } = eventStreamResponse(request)
    const reader = (response.body as ReadableStream<Uint8Array>).getReader()
    await reader.read()
    abort()
    assert.equal(stream.closeReason, 'client-closed')
    assert.equal((await reader.read()).done, true)
    assert.equal(stream.send({ data: 'late' }), false, 'writes after close are refused at once')
  })

  it('closes at once for a request already aborted', () => {
    const { request, abort } = streamRequest()
    abort()
    const { stream } = eventStreamResponse(request)
    assert.equal(stream.closeReason, 'client-closed')
  })

  it('closes with client-closed when the runtime cancels the body', async () => {
    const { request } = streamRequest()
    const { response, stream } = eventStreamResponse(request)
    await (response.body as ReadableStream<Uint8Array>).cancel()
    assert.equal(stream.closeReason, 'client-closed')
  })

  it('refuses a highWaterMark that is not a positive number of bytes', () => {
    const { request } = streamRequest()
    assert.throws(() => eventStreamResponse(request, { highWaterMark: 0 }), /highWaterMark/)
  })
})

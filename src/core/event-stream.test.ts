import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { encodeEvent } from './encode.ts'
import {
  type EventSink,
  EventStream,
  type EventStreamCloseReason,
  flushQueuedStreams,
} from './event-stream.ts'
import { createHeartbeat } from './heartbeat.ts'

const decoder = new TextDecoder()

interface RecordingSink extends EventSink {
  accept: boolean
  ended: boolean
  destroyed: boolean
  batches: string[][]
  text(): string
}

/** A sink that records every batch; `accept` decides what `write` returns. */
function recordingSink(accept = true): RecordingSink {
  const sink: RecordingSink = {
    accept,
    ended: false,
    destroyed: false,
    batches: [],
    text: () => sink.batches.flat().join(''),
    write(chunks) {
      sink.batches.push(chunks.map((chunk) => decoder.decode(chunk)))
      return sink.accept
    },
    end() {
      sink.ended = true
    },
    destroy() {
      sink.destroyed = true
    },
  }
  return sink
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('EventStream', () => {
  it('writes the opening comment, then a retry when asked, in the first tick', async () => {
    const sink = recordingSink()
    new EventStream(sink, { retry: 2500 })
    assert.equal(sink.batches.length, 0, 'nothing is written synchronously')
    await tick()
    assert.equal(sink.text(), ': ok\nretry: 2500\n')
  })

  it('coalesces every write made in one tick into one batch for the sink', async () => {
    const sink = recordingSink()
    const stream = new EventStream(sink)
    await tick()
    sink.batches.length = 0
    for (let i = 0; i < 50; i++) stream.send({ data: `n${i}` })
    await tick()
    assert.equal(sink.batches.length, 1)
    assert.equal(sink.batches[0]?.length, 1, 'joined into one chunk: one write of the response')
    assert.match(sink.text(), /^data: n0\n\ndata: n1\n\n/)
    assert.match(sink.text(), /data: n49\n\n$/)
  })

  it('flushes a large fan-out 128 streams per turn, merging writes made between slices', async () => {
    const sinks = Array.from({ length: 300 }, () => recordingSink())
    const streams = sinks.map((sink) => new EventStream(sink))
    for (let turn = 0; turn < 10 && sinks.some((sink) => sink.batches.length === 0); turn++) {
      await tick()
    }
    for (const sink of sinks) sink.batches.length = 0
    const first = encodeEvent({ data: 'first' })
    for (const stream of streams) stream.write(first)
    await tick()
    const flushed = sinks.filter((sink) => sink.batches.length > 0).length
    assert.equal(flushed, 128, 'one slice per turn, so I/O is polled between slices')
    // An update published between slices: the streams not yet flushed carry both in one write.
    const second = encodeEvent({ data: 'second' })
    for (const stream of streams) stream.write(second)
    for (let turn = 0; turn < 10; turn++) await tick()
    for (const [index, sink] of sinks.entries()) {
      assert.equal(sink.text(), 'data: first\n\ndata: second\n\n', `stream ${index}`)
      assert.equal(sink.batches.length, index < 128 ? 2 : 1, `stream ${index}`)
    }
  })

  it('flushQueuedStreams writes in this turn what a setImmediate callback queued, once', async () => {
    const sink = recordingSink()
    const stream = new EventStream(sink)
    await tick()
    sink.batches.length = 0
    const order: string[] = []
    await new Promise<void>((resolve) => {
      // Both queued now, so both run in the same turn: the writes of the first would wait for the
      // next turn, after its poll, if the second did not flush them.
      setImmediate(() => {
        stream.send({ data: 'a' })
        setImmediate(() => {
          order.push(`next turn: ${sink.batches.length} batch(es)`)
          resolve()
        })
      })
      setImmediate(() => {
        flushQueuedStreams()
        order.push(`same turn: ${sink.batches.length} batch(es)`)
      })
    })
    assert.deepEqual(order, ['same turn: 1 batch(es)', 'next turn: 1 batch(es)'])
    // The flush it stood in for did nothing more; the next writes are flushed as usual.
    stream.send({ data: 'b' })
    await tick()
    assert.deepEqual(sink.batches, [['data: a\n\n'], ['data: b\n\n']])
    flushQueuedStreams()
    assert.equal(sink.batches.length, 2, 'nothing queued: nothing written')
  })

  it('flushQueuedStreams starts a round of 300 streams, then leaves it one slice a turn', async () => {
    const sinks = Array.from({ length: 300 }, () => recordingSink())
    const streams = sinks.map((sink) => new EventStream(sink))
    for (let turn = 0; turn < 10 && sinks.some((sink) => sink.batches.length === 0); turn++) {
      await tick()
    }
    for (const sink of sinks) sink.batches.length = 0
    const flushed = (): number => sinks.filter((sink) => sink.batches.length > 0).length
    const counts: number[] = []
    await new Promise<void>((resolve) => {
      setImmediate(() => {
        for (const stream of streams) stream.send({ data: 'x' })
      })
      setImmediate(() => {
        flushQueuedStreams()
        counts.push(flushed())
        // The round is under way: a second call runs no slice of it ahead of its turn.
        flushQueuedStreams()
        counts.push(flushed())
        resolve()
      })
    })
    await tick()
    counts.push(flushed())
    for (let turn = 0; turn < 10; turn++) await tick()
    counts.push(flushed())
    assert.deepEqual(counts, [128, 128, 256, 300])
    for (const sink of sinks) assert.deepEqual(sink.batches, [['data: x\n\n']])
  })

  it('writes the very same bytes object it was given (encode once, write to many)', async () => {
    const seen: Uint8Array[] = []
    const sink: EventSink = {
      write: (chunks) => {
        seen.push(...chunks)
        return true
      },
      end() {},
      destroy() {},
    }
    const a = new EventStream(sink, { openingComment: 'a' })
    const b = new EventStream(sink, { openingComment: 'b' })
    await tick()
    const bytes = encodeEvent({ data: 'shared' })
    a.write(bytes)
    b.write(bytes)
    await tick()
    assert.equal(seen.filter((chunk) => chunk === bytes).length, 2)
  })

  it('joins the same queued events once for every stream that holds them', async () => {
    const written = new Map<string, Uint8Array[]>()
    const sinkFor = (name: string): EventSink => ({
      write: (chunks) => {
        written.set(name, [...(written.get(name) ?? []), ...chunks])
        return true
      },
      end() {},
      destroy() {},
    })
    const streams = ['a', 'b', 'c'].map((name) => new EventStream(sinkFor(name)))
    await tick()
    written.clear()
    const one = encodeEvent({ data: 'one' })
    const two = encodeEvent({ data: 'two' })
    for (const stream of streams.slice(0, 2)) {
      stream.write(one)
      stream.write(two)
    }
    streams[2]?.write(two)
    streams[2]?.write(one)
    await tick()
    const [a, b, c] = ['a', 'b', 'c'].map((name) => written.get(name)?.[0])
    assert.equal(decoder.decode(a), 'data: one\n\ndata: two\n\n')
    assert.equal(a, b, 'the very same buffer: joined once')
    assert.notEqual(c, a)
    assert.equal(decoder.decode(c), 'data: two\n\ndata: one\n\n')
  })

  it('holds writes while the sink signals backpressure and sends them on resume', async () => {
    const sink = recordingSink(false)
    const stream = new EventStream(sink)
    await tick()
    assert.equal(stream.paused, true)
    stream.send({ data: 'held' })
    await tick()
    assert.equal(sink.batches.length, 1, 'nothing more reaches a sink that asked to wait')
    assert.equal(stream.queuedBytes, 'data: held\n\n'.length)
    sink.accept = true
    const drained = stream.drained()
    stream.resume()
    await drained
    assert.equal(stream.paused, false)
    assert.equal(sink.batches.at(-1)?.join(''), 'data: held\n\n')
    assert.equal(stream.queuedBytes, 0)
  })

  it('disconnects a client whose queue passes maxQueueBytes and frees the queue', async () => {
    const sink = recordingSink(false)
    const reasons: EventStreamCloseReason[] = []
    const stream = new EventStream(sink, { maxQueueBytes: 1000, onClose: (r) => reasons.push(r) })
    await tick()
    const event = encodeEvent({ data: 'x'.repeat(90) })
    let accepted = 0
    while (stream.write(event)) accepted++
    assert.equal(accepted, 10, 'ten 98-byte events fit in 1000 bytes, the eleventh does not')
    assert.deepEqual(reasons, ['overflow'])
    assert.equal(stream.closeReason, 'overflow')
    assert.equal(sink.destroyed, true, 'an overflowing client is cut, not sent the rest')
    assert.equal(stream.queuedBytes, 0)
  })

  it('never counts a burst written while the transport takes more, and hands it over in 128 KiB pieces as it drains', async () => {
    const sink = recordingSink(false)
    const reasons: EventStreamCloseReason[] = []
    const stream = new EventStream(sink, {
      maxQueueBytes: 64 * 1024,
      onClose: (r) => reasons.push(r),
    })
    await tick()
    // The opening comment was refused: the client took nothing yet. Let it take it.
    sink.accept = true
    stream.resume()
    sink.batches.length = 0
    // 4 MiB in one turn, 64 times the bound, while the transport takes more.
    const event = encodeEvent({ data: 'y'.repeat(32 * 1024 - 9) })
    for (let i = 0; i < 128; i++) assert.equal(stream.write(event), true)
    sink.accept = false
    await tick()
    assert.equal(stream.closed, false, 'a burst is not what a client failed to take')
    assert.equal(sink.batches.length, 1, 'one piece, then the transport refused')
    assert.ok((sink.batches[0]?.join('').length ?? 0) <= 128 * 1024, 'a piece is at most 128 KiB')
    let pieces = 1
    while (stream.queuedBytes > 0) {
      stream.resume()
      pieces++
      assert.ok(pieces <= 128, 'the queue shrinks with every drain')
    }
    assert.equal(sink.text().length, 128 * event.byteLength, 'every byte, once, in order')
    assert.equal(stream.closed, false)
    assert.deepEqual(reasons, [])
    stream.close()
  })

  it('cuts a client that fails to take more than maxQueueBytes of what was written while its transport refused, less what it took', async () => {
    const sink = recordingSink(false)
    const stream = new EventStream(sink, { maxQueueBytes: 10_000 })
    await tick()
    const event = encodeEvent({ data: 'z'.repeat(991) })
    // It takes about as much as is written while refused: never cut.
    for (let i = 0; i < 100; i++) {
      assert.equal(stream.write(event), true, `write ${i}`)
      if (i % 5 === 4) stream.resume()
    }
    assert.equal(stream.closed, false, 'a client that keeps taking is not cut')
    // It stops taking: 10,000 bytes later it is.
    let written = 0
    while (stream.write(event)) written++
    assert.ok(written <= 10, `cut after ${written} more writes`)
    assert.equal(stream.closeReason, 'overflow')
    assert.equal(sink.destroyed, true)
  })

  it('cuts a client that took nothing for stallTimeoutMs while data waited, and a drain starts the clock again', async () => {
    const sink = recordingSink(false)
    const stream = new EventStream(sink, { stallTimeoutMs: 400 })
    await tick()
    stream.write(encodeEvent({ data: 'waiting' }))
    await new Promise((resolve) => setTimeout(resolve, 300))
    stream.resume() // it took the opening comment: progress, but the transport refuses again
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(stream.closed, false, 'the drain started the clock again')
    const started = Date.now()
    while (!stream.closed && Date.now() - started < 3000) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    assert.equal(stream.closeReason, 'stalled')
    assert.equal(sink.destroyed, true, 'a stalled client is cut, not sent the rest')
  })

  it('never cuts an idle client, nor one whose transport takes everything', async () => {
    const idle = new EventStream(recordingSink(true), { stallTimeoutMs: 100 })
    const taking = new EventStream(recordingSink(true), { stallTimeoutMs: 100 })
    for (let i = 0; i < 10; i++) {
      taking.write(encodeEvent({ data: 'x'.repeat(100_000) }))
      await new Promise((resolve) => setTimeout(resolve, 40))
    }
    assert.equal(idle.closed, false)
    assert.equal(taking.closed, false)
    idle.close()
    taking.close()
  })

  it('ignores writes after close and never hangs a waiter', async () => {
    const sink = recordingSink(false)
    const stream = new EventStream(sink)
    await tick()
    const waiting = stream.drained()
    stream.close('client-closed')
    await waiting
    assert.equal(stream.send({ data: 'late' }), false)
    assert.equal(stream.comment('late'), false)
    await tick()
    assert.equal(sink.batches.length, 1)
    assert.equal(sink.ended, false, 'a gone client is not written to')
  })

  it('flushes what is queued and ends the response on a server close', async () => {
    const sink = recordingSink()
    const stream = new EventStream(sink)
    stream.send({ data: 'last' })
    stream.close('server-closed')
    assert.equal(sink.text(), ': ok\ndata: last\n\n')
    assert.equal(sink.ended, true)
    assert.equal(sink.destroyed, false)
  })

  it('calls every close listener once, and a late one in a microtask', async () => {
    const stream = new EventStream(recordingSink())
    const calls: string[] = []
    stream.onClose((r) => calls.push(`a:${r}`))
    const off = stream.onClose((r) => calls.push(`b:${r}`))
    off()
    stream.close('lifetime')
    stream.close('error')
    stream.onClose((r) => calls.push(`c:${r}`))
    await tick()
    assert.deepEqual(calls, ['a:lifetime', 'c:lifetime'])
  })

  it('tells close listeners in registration order, functions and handleClose objects alike', () => {
    const stream = new EventStream(recordingSink(), { onClose: (r) => calls.push(`option:${r}`) })
    const calls: string[] = []
    const handler = {
      handleClose(reason: EventStreamCloseReason, closed: EventStream) {
        calls.push(`handler:${reason}:${closed === stream}`)
      },
    }
    stream.onClose(handler)
    const off = stream.onClose(() => calls.push('removed'))
    stream.onClose((r, closed) => calls.push(`last:${r}:${closed === stream}`))
    off()
    stream.close('expired')
    assert.deepEqual(calls, ['option:expired', 'handler:expired:true', 'last:expired:true'])
  })

  it('closes with reason error when the sink throws', async () => {
    const stream = new EventStream({
      write() {
        throw new Error('EPIPE')
      },
      end() {},
      destroy() {},
    })
    await tick()
    assert.equal(stream.closeReason, 'error')
  })

  it('registers with the heartbeat while open and leaves it on close', async () => {
    const heartbeat = createHeartbeat({ intervalMs: 60_000 })
    const sink = recordingSink()
    const stream = new EventStream(sink, { heartbeat })
    assert.equal(heartbeat.size, 1)
    stream.heartbeat()
    await tick()
    assert.equal(sink.text(), ': ok\n:\n')
    stream.close()
    assert.equal(heartbeat.size, 0)
  })

  it('refuses a stallTimeoutMs that is not a positive number or null', () => {
    assert.throws(() => new EventStream(recordingSink(), { stallTimeoutMs: 0 }), RangeError)
    assert.throws(
      () => new EventStream(recordingSink(), { stallTimeoutMs: Number.NaN }),
      RangeError,
    )
    new EventStream(recordingSink(), { stallTimeoutMs: null }).close()
  })

  it('refuses a maxQueueBytes that is not a positive integer', () => {
    assert.throws(() => new EventStream(recordingSink(), { maxQueueBytes: 0 }), RangeError)
    assert.throws(() => new EventStream(recordingSink(), { maxQueueBytes: 1.5 }), RangeError)
  })

  it('refuses an invalid retry before writing anything', () => {
    assert.throws(() => new EventStream(recordingSink(), { retry: -1 }), { code: 'invalid-field' })
  })
})

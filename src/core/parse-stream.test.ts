import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { SseError } from './errors.ts'
import type { SseMessage } from './parse.ts'
import { EventSourceParserStream } from './parse-stream.ts'

const utf8 = new TextEncoder()

function streamOf(chunks: (Uint8Array | string)[]): ReadableStream<Uint8Array | string> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk)
      controller.close()
    },
  })
}

async function collect(stream: ReadableStream<SseMessage>): Promise<SseMessage[]> {
  const messages: SseMessage[] = []
  for await (const message of stream) messages.push(message)
  return messages
}

describe('EventSourceParserStream', () => {
  it('turns byte chunks into messages, even split inside the BOM and a character', async () => {
    const body = utf8.encode('\uFEFFid: 1\nevent: tick\ndata: a\ndata: €\n\ndata: b\n\n')
    const chunks = [body.subarray(0, 2), body.subarray(2, 36), body.subarray(36)]
    const messages = await collect(streamOf(chunks).pipeThrough(new EventSourceParserStream()))
    assert.deepEqual(messages, [
      { type: 'tick', data: 'a\n€', lastEventId: '1' },
      { type: 'message', data: 'b', lastEventId: '1' },
    ])
  })

  it('accepts strings and passes retry and comments to its callbacks', async () => {
    const retries: number[] = []
    const comments: string[] = []
    const stream = new EventSourceParserStream({
      onRetry: (ms) => retries.push(ms),
      onComment: (text) => comments.push(text),
    })
    const messages = await collect(
      streamOf([': hi\nretry: 10\n', 'data: x\n\n']).pipeThrough(stream),
    )
    assert.deepEqual(messages, [{ type: 'message', data: 'x', lastEventId: '' }])
    assert.deepEqual(retries, [10])
    assert.deepEqual(comments, [' hi'])
  })

  it('discards an unterminated event when the input ends', async () => {
    const stream = new EventSourceParserStream({ lastEventId: '5' })
    const messages = await collect(streamOf(['data: a\n\nid: 6\ndata: b\n']).pipeThrough(stream))
    assert.deepEqual(messages, [{ type: 'message', data: 'a', lastEventId: '5' }])
    assert.equal(stream.lastEventId, '5')
  })

  it('errors the stream on line-too-long, after calling onError', async () => {
    const seen: SseError[] = []
    const stream = new EventSourceParserStream({
      maxLineLength: 8,
      onError: (error) => seen.push(error),
    })
    const messages: SseMessage[] = []
    await assert.rejects(
      (async () => {
        for await (const message of streamOf(['data: 1\n\n', 'data: 123456789\n\n']).pipeThrough(
          stream,
        )) {
          messages.push(message)
        }
      })(),
      (error: unknown) => error instanceof SseError && error.code === 'line-too-long',
    )
    assert.deepEqual(messages, [{ type: 'message', data: '1', lastEventId: '' }])
    assert.equal(seen.length, 1)
  })
})

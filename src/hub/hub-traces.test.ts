import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { EventStore } from './event-store.ts'
import { appendTraced, type PublishSpans } from './hub-traces.ts'
import type { TraceSpan } from './trace-span.ts'
import type { StoredUpdate, Update } from './update.ts'

function recordingSpan(attributes: Map<string, unknown>): TraceSpan {
  const span: TraceSpan = {
    setAttribute: (key, value) => void attributes.set(key, value),
    fail: () => {},
    end: () => {},
    child: () => span,
  }
  return span
}

async function tracedBytes(data: string): Promise<unknown> {
  const attributes = new Map<string, unknown>()
  const store = {
    append: async (update: Update) => ({ ...update, cursor: '1', time: 0 }) as StoredUpdate,
  } as unknown as EventStore
  const spans: PublishSpans = new Map()
  const update: Update = { id: 'urn:a', topics: ['urn:t'], data, private: false }
  await appendTraced(store, update, recordingSpan(attributes), spans)
  assert.equal(spans.size, 0, 'the span is forgotten once the append resolves')
  return attributes.get('ssehub.bytes')
}

describe('appendTraced', () => {
  it('records the payload size in UTF-8 bytes, as TextEncoder encodes it', async () => {
    const samples = [
      '',
      'ascii',
      'é',
      '€',
      '😀',
      'a😀é€',
      '\ud83d',
      '\ud83dé',
      '\ude00x',
      'x\ud83d',
    ]
    for (const data of samples) {
      assert.equal(await tracedBytes(data), new TextEncoder().encode(data).byteLength, data)
    }
  })
})

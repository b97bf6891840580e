import type { Update } from '../../src/hub/update.ts'

/** Updates covering every field and the awkward payloads: empty, multi-line, unicode, large. */
export function getVariedUpdates(): Update[] {
  return [
    {
      id: 'urn:uuid:0190b8a0-0000-7000-8000-000000000001',
      topics: ['https://example.com/1'],
      data: '',
      private: false,
    },
    {
      id: 'multi-line',
      topics: ['https://example.com/books/1', 'https://example.com/books/{id}'],
      data: 'line 1\nline 2\r\nline 3\rline 4\n\n',
      private: false,
      type: 'message',
    },
    {
      id: 'unicode-✓',
      topics: ['https://example.com/ünïcödé'],
      data: 'héllo 世界 🎉 \u2028\u2029 \u0000 end',
      private: true,
      retry: 0,
    },
    {
      id: 'with-retry',
      topics: ['urn:topic'],
      data: '{"a":1}',
      private: false,
      type: 'ping',
      retry: 5000,
    },
    {
      id: 'explicit-undefined',
      topics: ['urn:topic'],
      data: 'x',
      private: true,
      type: undefined,
      retry: undefined,
    },
    { id: 'large', topics: ['urn:topic'], data: 'x'.repeat(100_000), private: false },
  ]
}

/** A plain public update with this id. */
export function makeUpdate(id: string): Update {
  return { id, topics: ['https://example.com/feed'], data: `data of ${id}`, private: false }
}

/** Orders cursors made of dash-separated unsigned integers (`"42"`, `"1712000000000-3"`). */
export function compareCursors(a: string, b: string): number {
  const left = a.split('-').map(BigInt)
  const right = b.split('-').map(BigInt)
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const l = left[i] ?? -1n
    const r = right[i] ?? -1n
    if (l !== r) return l < r ? -1 : 1
  }
  return 0
}

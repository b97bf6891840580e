import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { retains } from '../src/hub/event-store.ts'
import type { Update } from '../src/hub/update.ts'
import { createMemoryStore } from '../src/storage/memory.ts'

function update(id: string, data: string): Update {
  return { id, topics: ['urn:t'], data, private: false }
}

describe('retains', () => {
  it('says whether the update at a cursor is retained, also when its id is reused', async () => {
    const store = createMemoryStore({ maxUpdates: 3 })
    try {
      const first = await store.append(update('r', 'first'))
      const x = await store.append(update('x', ''))
      const second = await store.append(update('r', 'second'))
      assert.equal(await retains(store, first.cursor, 'r'), true)
      assert.equal(await retains(store, second.cursor, 'r'), true, 'a later reuse')
      await store.append(update('y', ''))
      // The first left the history; the id still names a retained update, a later one: a
      // catch-up at the first must not take that for its own cursor and skip the gap.
      assert.equal(await retains(store, first.cursor, 'r'), false)
      assert.equal(await retains(store, second.cursor, 'r'), true)
      assert.equal(await retains(store, x.cursor, 'x'), true)
      await store.append(update('z', ''))
      assert.equal(await retains(store, x.cursor, 'x'), false)
    } finally {
      await store.close()
    }
  })
})

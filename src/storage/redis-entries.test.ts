import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Update } from '../hub/update.ts'
import { contentDigest, entryFields, FIELD } from './redis-entries.ts'

const update: Update = {
  id: 'urn:a',
  topics: ['urn:t', 'urn:u'],
  data: 'data\nmore',
  private: false,
  type: 'kind',
  retry: 100,
}

describe('contentDigest', () => {
  it('is the same for the same update and differs when any field differs', () => {
    assert.equal(contentDigest({ ...update, topics: [...update.topics] }), contentDigest(update))
    const others: Update[] = [
      { ...update, id: 'urn:b' },
      { ...update, topics: ['urn:u', 'urn:t'] },
      { ...update, topics: ['urn:t'] },
      { ...update, data: 'data' },
      { ...update, data: '' },
      { ...update, private: true },
      { ...update, type: undefined },
      { ...update, retry: undefined },
      { ...update, retry: 101 },
      // Moving text between the fields and the data must not give the same bytes to hash.
      { ...update, type: undefined, data: `"kind",100]\n${update.data}` },
    ]
    const digests = new Set([update, ...others].map(contentDigest))
    assert.equal(digests.size, others.length + 1)
  })

  it('is the second field of an entry, after the id, as the append script reads them', () => {
    const fields = entryFields(update)
    assert.deepEqual(fields.slice(0, 4), [FIELD.id, update.id, FIELD.digest, contentDigest(update)])
  })
})

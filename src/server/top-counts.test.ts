import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { TopCounts } from './top-counts.ts'

describe('TopCounts', () => {
  it('counts exactly while the keys fit, most first', () => {
    const counts = new TopCounts(4)
    for (const key of ['a', 'b', 'a', 'c', 'a', 'b']) counts.add(key)
    assert.deepEqual(counts.top(3), [
      { key: 'a', count: 3 },
      { key: 'b', count: 2 },
      { key: 'c', count: 1 },
    ])
    assert.deepEqual(counts.top(1), [{ key: 'a', count: 3 }])
  })

  it('keeps at most its capacity under a flood of distinct keys, and the heavy key on top', () => {
    const counts = new TopCounts(16)
    for (let i = 0; i < 100_000; i++) {
      counts.add(`urn:flood:${i}`)
      if (i % 10 === 0) counts.add('urn:hot')
    }
    assert.equal(counts.size, 16)
    const [first] = counts.top(1)
    assert.equal(first?.key, 'urn:hot')
    // Space-Saving over-counts by at most total / capacity: 110,000 / 16.
    assert.ok((first?.count ?? 0) >= 10_000 && (first?.count ?? 0) <= 10_000 + 110_000 / 16)
  })

  it('holds exactly the capacity at the bound, and one past it evicts the least counted', () => {
    const counts = new TopCounts(2)
    counts.add('a', 5)
    counts.add('b', 1)
    assert.equal(counts.size, 2)
    counts.add('c')
    assert.equal(counts.size, 2)
    assert.deepEqual(counts.top(5), [
      { key: 'a', count: 5 },
      { key: 'c', count: 2 },
    ])
  })

  it('cuts long keys, so a key costs bounded memory', () => {
    const counts = new TopCounts(2, 10)
    counts.add('x'.repeat(10))
    counts.add('y'.repeat(1_000_000))
    assert.deepEqual(
      counts.top(2).map((t) => t.key),
      ['x'.repeat(10), `${'y'.repeat(10)}…`],
    )
  })

  it('forgets everything on clear() and refuses a capacity below 1', () => {
    const counts = new TopCounts(2)
    counts.add('a')
    counts.clear()
    assert.equal(counts.size, 0)
    assert.deepEqual(counts.top(1), [])
    assert.throws(() => new TopCounts(0), RangeError)
    assert.throws(() => new TopCounts(1.5), RangeError)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { StoredUpdate } from '../hub/update.ts'
import { RecentUpdates } from './recent-updates.ts'
import { storedUpdate } from './stored-update.ts'

/** Update `seq`, committed at `time`, whose strings weigh about 100 bytes with the overhead. */
function update(seq: number, time = 1000): StoredUpdate {
  return storedUpdate({ id: `u${seq}`, topics: ['t'], data: 'x', private: false }, `${seq}`, time)
}

const ids = (updates: StoredUpdate[] | null): string[] | null =>
  updates === null ? null : updates.map((u) => u.id)

describe('RecentUpdates', () => {
  it('serves a contiguous range after a cursor, bounded by upTo and limit', () => {
    const recent = new RecentUpdates(1_000_000, 100)
    recent.add(
      [5, 6, 7, 8],
      [5, 6, 7, 8].map((seq) => update(seq)),
    )
    assert.deepEqual(ids(recent.read(4, 8, 100, 0)), ['u5', 'u6', 'u7', 'u8'])
    assert.deepEqual(ids(recent.read(5, 7, 100, 0)), ['u6', 'u7'])
    assert.deepEqual(ids(recent.read(5, 8, 2, 0)), ['u6', 'u7'])
    assert.deepEqual(ids(recent.read(8, 8, 100, 0)), [])
    assert.equal(recent.read(3, 8, 100, 0), null, 'seq 4 is not held: the file must answer')
  })

  it('skips updates committed before the age cutoff', () => {
    const recent = new RecentUpdates(1_000_000, 100)
    recent.add([1, 2, 3], [update(1, 10), update(2, 20), update(3, 30)])
    assert.deepEqual(ids(recent.read(0, 3, 100, 20)), ['u2', 'u3'])
  })

  it('drops the oldest past its count and byte bounds', () => {
    const byCount = new RecentUpdates(1_000_000, 3)
    const seqs = Array.from({ length: 10 }, (_, i) => i + 1)
    byCount.add(
      seqs,
      seqs.map((seq) => update(seq)),
    )
    assert.equal(byCount.size, 3)
    assert.deepEqual(ids(byCount.read(7, 10, 100, 0)), ['u8', 'u9', 'u10'])
    assert.equal(byCount.read(6, 10, 100, 0), null)

    const oneSize = 160 + 'u1'.length + 1 + 1
    const byBytes = new RecentUpdates(oneSize * 4, 1000)
    byBytes.add(
      seqs,
      seqs.map((seq) => update(seq)),
    )
    assert.ok(byBytes.size >= 3 && byBytes.size <= 4, `holds ${byBytes.size}`)
    assert.deepEqual(ids(byBytes.read(9, 10, 100, 0)), ['u10'])
  })

  it('restarts from an update that does not follow the newest held', () => {
    const recent = new RecentUpdates(1_000_000, 100)
    recent.add([1, 2], [update(1), update(2)])
    recent.add([5], [update(5)])
    assert.equal(recent.read(1, 5, 100, 0), null, 'seqs 3 and 4 were never held')
    assert.deepEqual(ids(recent.read(4, 5, 100, 0)), ['u5'])
  })

  it('keeps order while compacting over many additions', () => {
    const recent = new RecentUpdates(1_000_000, 50)
    for (let seq = 1; seq <= 5000; seq++) recent.add([seq], [update(seq)])
    assert.equal(recent.size, 50)
    const held = recent.read(4950, 5000, 100, 0)
    assert.deepEqual(
      ids(held),
      Array.from({ length: 50 }, (_, i) => `u${4951 + i}`),
    )
  })

  it('holds nothing with a zero byte bound, and refuses a negative one', () => {
    const none = new RecentUpdates(0, 100)
    none.add([1], [update(1)])
    assert.equal(none.read(0, 1, 100, 0), null)
    assert.throws(() => new RecentUpdates(-1, 100), RangeError)
  })
})

import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { createDeadlines } from './deadlines.ts'

describe('createDeadlines', () => {
  it('expires each item once, never after its deadline and at most 1.5 s before', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 })
    try {
      const expired: Array<{ item: string; at: number }> = []
      const deadlines = createDeadlines<string>({
        onExpire: (item) => expired.push({ item, at: Date.now() }),
      })
      const due = { a: 1_003_200, b: 1_005_900, c: 1_010_000 }
      for (const [item, at] of Object.entries(due)) deadlines.set(item, at)
      for (let i = 0; i < 40; i++) mock.timers.tick(500)
      assert.deepEqual(
        expired.map((e) => e.item),
        ['a', 'b', 'c'],
      )
      for (const { item, at } of expired) {
        const deadline = due[item as keyof typeof due]
        assert.ok(at <= deadline, `${item} expired at ${at}, after its deadline ${deadline}`)
        assert.ok(at >= deadline - 1500, `${item} expired at ${at}, too early for ${deadline}`)
      }
      assert.equal(deadlines.size, 0)
    } finally {
      mock.timers.reset()
    }
  })

  it('forgets deleted items and runs its one timer only while items are scheduled', (t) => {
    const started = t.mock.method(globalThis, 'setInterval')
    const cleared = t.mock.method(globalThis, 'clearInterval')
    const expired: string[] = []
    const deadlines = createDeadlines<string>({ onExpire: (item) => expired.push(item) })
    deadlines.set('a', Date.now() + 60_000)
    deadlines.set('b', Date.now() + 60_000)
    assert.equal(started.mock.callCount(), 1)
    deadlines.delete('a')
    deadlines.delete('b')
    assert.equal(cleared.mock.callCount(), 1)
    assert.equal(deadlines.size, 0)
    assert.deepEqual(expired, [])
  })

  it('moves an item rescheduled to a new deadline', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 5_000_000 })
    try {
      const expired: number[] = []
      const deadlines = createDeadlines<string>({ onExpire: () => expired.push(Date.now()) })
      deadlines.set('a', 5_002_000)
      deadlines.set('a', 5_030_000)
      for (let i = 0; i < 20; i++) mock.timers.tick(500)
      assert.deepEqual(expired, [])
      for (let i = 0; i < 60; i++) mock.timers.tick(500)
      assert.equal(expired.length, 1)
    } finally {
      mock.timers.reset()
    }
  })
})

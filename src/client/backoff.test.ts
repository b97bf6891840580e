import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createBackoff } from './backoff.ts'

describe('createBackoff', () => {
  it('doubles the delay from the base on each failure and stops at the cap, without jitter', () => {
    const backoff = createBackoff({ baseMs: 100, maxMs: 1000, jitter: false })
    const delays = Array.from({ length: 7 }, () => backoff.next())
    assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000])
    assert.equal(backoff.attempt, 7)
  })

  it('draws each delay from [0, min(cap, base·2^n)) with full jitter', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 0, max: 120_000 }),
        fc.integer({ min: 0, max: 40 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (baseMs, maxMs, failures, draw) => {
          const backoff = createBackoff({ baseMs, maxMs, random: () => draw })
          for (let i = 0; i < failures; i++) backoff.next()
          const delay = backoff.next()
          const ceiling = Math.min(Math.max(maxMs, baseMs), baseMs * 2 ** failures)
          return Number.isInteger(delay) && delay >= 0 && delay < ceiling
        },
      ),
    )
  })

  it('spreads delays over the whole range, from 0 to just under the ceiling', () => {
    const low = createBackoff({ baseMs: 1000, random: () => 0 })
    const high = createBackoff({ baseMs: 1000, random: () => 0.999_999 })
    assert.equal(low.next(), 0)
    assert.equal(high.next(), 999)
    assert.equal(high.next(), 1999)
  })

  it('starts the ladder over once a connection stayed open for healthyAfterMs', () => {
    let now = 0
    const backoff = createBackoff({
      baseMs: 100,
      maxMs: 10_000,
      healthyAfterMs: 5000,
      jitter: false,
      now: () => now,
    })
    assert.deepEqual([backoff.next(), backoff.next(), backoff.next()], [100, 200, 400])
    backoff.opened()
    now += 4999
    assert.equal(backoff.next(), 800, 'a connection that died young keeps climbing')
    backoff.opened()
    now += 5000
    assert.equal(backoff.next(), 100, 'a healthy connection resets the ladder')
    assert.equal(backoff.next(), 200)
  })

  it('does not reset for a healthy period that passed before the last failure', () => {
    let now = 0
    const backoff = createBackoff({
      baseMs: 100,
      healthyAfterMs: 1000,
      jitter: false,
      now: () => now,
    })
    backoff.opened()
    backoff.next()
    now += 10_000
    assert.equal(backoff.next(), 200, 'no connection was open: the failure still counts')
  })

  it('takes a new base from the server and honours one above the cap', () => {
    const backoff = createBackoff({ baseMs: 3000, maxMs: 30_000, jitter: false })
    backoff.baseMs = 200
    assert.deepEqual([backoff.next(), backoff.next()], [200, 400])
    backoff.baseMs = 60_000
    backoff.reset()
    assert.deepEqual([backoff.next(), backoff.next()], [60_000, 60_000])
  })

  it('keeps delays finite and within what setTimeout accepts after endless failures', () => {
    const backoff = createBackoff({ baseMs: 1000, maxMs: Number.MAX_SAFE_INTEGER, jitter: false })
    let delay = 0
    for (let i = 0; i < 2000; i++) delay = backoff.next()
    assert.equal(delay, 2_147_483_647)
  })

  it('refuses negative or non-finite durations', () => {
    assert.throws(() => createBackoff({ baseMs: -1 }), RangeError)
    assert.throws(() => createBackoff({ maxMs: Number.NaN }), RangeError)
    assert.throws(() => {
      createBackoff().baseMs = Number.POSITIVE_INFINITY
    }, RangeError)
  })
})

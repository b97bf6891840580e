import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { backoffDelay, retryAfterDelay } from './webhook-retry.ts'

const TIMING = { minBackoffMs: 500, maxBackoffMs: 30_000, maxRetryAfterMs: 60_000 }

describe('backoffDelay', () => {
  it('doubles from the minimum, drawn in the upper half of each step', () => {
    const low = (failures: number) => backoffDelay(failures, TIMING, () => 0)
    const high = (failures: number) => backoffDelay(failures, TIMING, () => 0.999_999)
    assert.deepEqual([1, 2, 3, 4].map(low), [250, 500, 1000, 2000])
    assert.deepEqual([1, 2, 3, 4].map(high), [500, 1000, 2000, 4000])
  })

  it('stops growing at the maximum, however many failures', () => {
    // 500 × 2^6 = 32,000 is past the 30,000 cap; 2^30 would overflow without the exponent bound.
    for (const failures of [7, 8, 100, 10_000]) {
      assert.equal(
        backoffDelay(failures, TIMING, () => 0.999_999),
        30_000,
      )
      assert.equal(
        backoffDelay(failures, TIMING, () => 0),
        15_000,
      )
    }
    assert.equal(
      backoffDelay(6, TIMING, () => 0.999_999),
      16_000,
    )
  })

  it('spreads retries: different draws give different delays', () => {
    const delays = new Set([0.1, 0.4, 0.7].map((r) => backoffDelay(5, TIMING, () => r)))
    assert.equal(delays.size, 3)
  })
})

describe('retryAfterDelay', () => {
  const now = Date.parse('2026-12-06T12:00:00Z')

  it('reads delay-seconds and HTTP dates', () => {
    assert.equal(retryAfterDelay('7', TIMING, now), 7000)
    assert.equal(retryAfterDelay(' 12 ', TIMING, now), 12_000)
    assert.equal(retryAfterDelay('Sun, 06 Dec 2026 12:00:20 GMT', TIMING, now), 20_000)
  })

  it('honours it no sooner than the minimum backoff (no hot loop on "0")', () => {
    assert.equal(retryAfterDelay('0', TIMING, now), 500)
    assert.equal(retryAfterDelay('Sun, 06 Dec 2026 11:00:00 GMT', TIMING, now), 500)
  })

  it('cuts it to the maximum: at the bound it is kept, past it reduced', () => {
    assert.equal(retryAfterDelay('60', TIMING, now), 60_000)
    assert.equal(retryAfterDelay('61', TIMING, now), 60_000)
    assert.equal(retryAfterDelay('86400', TIMING, now), 60_000)
  })

  it('is undefined when absent or unreadable', () => {
    for (const header of [null, '', 'soon', '-5', '1.5']) {
      assert.equal(retryAfterDelay(header, TIMING, now), undefined, String(header))
    }
  })
})

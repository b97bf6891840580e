import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LatencySamples } from './latency-samples.ts'

describe('LatencySamples', () => {
  it('gives nearest-rank percentiles', () => {
    const samples = new LatencySamples(1000)
    for (let i = 100; i >= 1; i--) samples.add(i)
    assert.deepEqual(samples.quantiles([0.5, 0.99, 1]), [50, 99, 100])
    const one = new LatencySamples()
    one.add(7)
    assert.deepEqual(one.quantiles([0.5, 0.99]), [7, 7])
  })

  it('gives nulls when nothing was added', () => {
    assert.deepEqual(new LatencySamples().quantiles([0.5, 0.99]), [null, null])
  })

  it('keeps at most its capacity however many are added, and counts them all', () => {
    let seed = 1
    // A fixed pseudo-random sequence, so the sample (and the test) is the same on every run.
    const random = (): number => {
      seed = (seed * 16807) % 2147483647
      return (seed - 1) / 2147483646
    }
    const samples = new LatencySamples(256, random)
    for (let i = 1; i <= 100_000; i++) samples.add(i % 1000)
    assert.equal(samples.kept, 256)
    assert.equal(samples.seen, 100_000)
    const [p50, p99] = samples.quantiles([0.5, 0.99])
    // A uniform sample of 0…999: its median near 500, its p99 near 990.
    assert.ok(p50 != null && p50 > 400 && p50 < 600, `p50 ${p50}`)
    assert.ok(p99 != null && p99 > 950, `p99 ${p99}`)
  })

  it('at exactly its capacity keeps every value', () => {
    const samples = new LatencySamples(3, () => 0)
    for (const v of [3, 1, 2]) samples.add(v)
    assert.deepEqual(samples.quantiles([1 / 3, 2 / 3, 1]), [1, 2, 3])
    samples.add(10)
    assert.equal(samples.kept, 3)
    assert.equal(samples.seen, 4)
    assert.deepEqual(samples.quantiles([1]), [10], 'random 0 replaces slot 0')
  })

  it('forgets everything on clear()', () => {
    const samples = new LatencySamples(2)
    samples.add(1)
    samples.clear()
    assert.equal(samples.seen, 0)
    assert.deepEqual(samples.quantiles([0.5]), [null])
  })
})

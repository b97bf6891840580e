import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { CoarseTimeouts, coarseTimeouts } from './coarse-timeouts.ts'

describe('CoarseTimeouts', () => {
  it('fires a wait never before its timeout, and at most a slice after it', () => {
    mock.timers.enable({ apis: ['setInterval'] })
    try {
      const timeouts = new CoarseTimeouts({ ms: 1000 })
      let fired = 0
      timeouts.add(() => fired++)
      mock.timers.tick(999)
      assert.equal(fired, 0, 'fired early')
      mock.timers.tick(251)
      assert.equal(fired, 1, 'not fired by 1250 ms')
      mock.timers.tick(5000)
      assert.equal(fired, 1, 'fired twice')
    } finally {
      mock.timers.reset()
    }
  })

  it('fires each of 10,000 waits added over three timeouts once, none early, none more than a slice late', () => {
    // The mocked Date.now is the mocked timers' clock: read inside a callback, it is the tick's.
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 })
    try {
      const ms = 400
      const timeouts = new CoarseTimeouts({ ms, slices: 4 })
      const late: number[] = []
      const fires = new Map<number, number>()
      // Eight waits a millisecond, so waits land at every point of a slice; the clock moves a
      // millisecond at a time, as the interval's (a longer step would delay its ticks).
      for (let i = 0; i < 10_000; i++) {
        const added = Date.now()
        timeouts.add(() => {
          fires.set(i, (fires.get(i) ?? 0) + 1)
          const now = Date.now()
          assert.ok(now >= added + ms, `wait ${i} added at ${added} fired at ${now}`)
          late.push(now - added - ms)
        })
        if (i % 8 === 7) mock.timers.tick(1)
      }
      for (let step = 0; step < 1000 && fires.size < 10_000; step++) mock.timers.tick(1)
      assert.equal(fires.size, 10_000)
      assert.ok([...fires.values()].every((count) => count === 1))
      assert.ok(Math.max(...late) <= ms / 4, `${Math.max(...late)} ms late`)
      assert.equal(timeouts.size, 0)
    } finally {
      mock.timers.reset()
    }
  })

  it('rounds a tick up to a whole millisecond, so a timeout not divisible by its slices is never early', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 })
    try {
      // 10 ms in 4 slices: ticks of 3 ms, so a wait fires after 15 ms at most, never before 10.
      const timeouts = new CoarseTimeouts({ ms: 10 })
      const fired: number[] = []
      for (let added = 0; added < 12; added++) {
        const at = Date.now()
        timeouts.add(() => fired.push(Date.now() - at))
        mock.timers.tick(1)
      }
      for (let i = 0; i < 40; i++) mock.timers.tick(1)
      assert.equal(fired.length, 12)
      assert.ok(Math.min(...fired) >= 10, `fired after ${Math.min(...fired)} ms`)
      // The wait added as the timer started fires on its fifth tick: 15 ms, ticks of 3 (not 2.5).
      assert.equal(Math.max(...fired), 15)
    } finally {
      mock.timers.reset()
    }
  })

  it('does not fire a wait deleted in time, and leaves the others', () => {
    mock.timers.enable({ apis: ['setInterval'] })
    try {
      const timeouts = new CoarseTimeouts({ ms: 100 })
      const fired: string[] = []
      const kept = () => fired.push('kept')
      const ended = () => fired.push('ended')
      timeouts.add(kept)
      const slot = timeouts.add(ended)
      assert.equal(timeouts.size, 2)
      timeouts.delete(slot, ended)
      assert.equal(timeouts.size, 1)
      mock.timers.tick(200)
      assert.deepEqual(fired, ['kept'])
    } finally {
      mock.timers.reset()
    }
  })

  it('runs one timer for all its waits, only while one is pending', async (t) => {
    const started = t.mock.method(globalThis, 'setInterval')
    const cleared = t.mock.method(globalThis, 'clearInterval')
    const timeouts = new CoarseTimeouts({ ms: 40 })
    const slots = Array.from({ length: 1000 }, () => {
      const onTimeout = () => assert.fail('a deleted wait fired')
      return { slot: timeouts.add(onTimeout), onTimeout }
    })
    assert.equal(started.mock.callCount(), 1, 'a thousand waits, one timer')
    for (const { slot, onTimeout } of slots) timeouts.delete(slot, onTimeout)
    // The next tick (10 ms) finds nothing pending and stops the timer.
    for (let i = 0; i < 100 && cleared.mock.callCount() === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
    assert.equal(cleared.mock.callCount(), 1, 'no wait, no timer')
    const fired = new Promise<void>((resolve) => timeouts.add(resolve))
    assert.equal(started.mock.callCount(), 2, 'a new wait starts it again')
    await fired
    assert.equal(timeouts.size, 0)
  })

  // Real timers: Node 20's mocked setInterval keeps running when cleared from its own callback.
  it('waits a whole timeout after its timer stopped and started again', async () => {
    const timeouts = new CoarseTimeouts({ ms: 40 })
    const ended = () => assert.fail('a deleted wait fired')
    timeouts.delete(timeouts.add(ended), ended)
    // Past the first tick (10 ms), which found nothing pending and stopped the timer.
    await new Promise((resolve) => setTimeout(resolve, 25))
    const added = performance.now()
    const elapsed = await new Promise<number>((resolve) =>
      timeouts.add(() => resolve(performance.now() - added)),
    )
    assert.ok(elapsed >= 40, `fired ${elapsed} ms after it was added`)
  })

  it('lets a wait that fires add another, which waits its whole timeout', () => {
    mock.timers.enable({ apis: ['setInterval', 'Date'], now: 0 })
    try {
      const timeouts = new CoarseTimeouts({ ms: 100 })
      const at: number[] = []
      const again = () => {
        at.push(Date.now())
        if (at.length < 3) timeouts.add(again)
      }
      timeouts.add(again)
      for (let i = 0; i < 500; i++) mock.timers.tick(1)
      assert.equal(at.length, 3)
      assert.ok((at[0] as number) >= 100)
      for (let i = 1; i < at.length; i++)
        assert.ok((at[i] as number) - (at[i - 1] as number) >= 100)
    } finally {
      mock.timers.reset()
    }
  })

  it('refuses a timeout or slice count that is not positive', () => {
    assert.throws(() => new CoarseTimeouts({ ms: 0 }), /ms must be a positive number/)
    assert.throws(() => new CoarseTimeouts({ ms: Number.NaN }), /ms must be a positive number/)
    assert.throws(() => new CoarseTimeouts({ ms: 10, slices: 0 }), /slices must be a positive/)
  })

  it('shares one instance per timeout in the process', () => {
    assert.equal(coarseTimeouts(30_000), coarseTimeouts(30_000))
    assert.notEqual(coarseTimeouts(30_000), coarseTimeouts(10_000))
  })
})

import assert from 'node:assert/strict'
import { describe, it, mock } from 'node:test'
import { createHeartbeat, sharedHeartbeat } from './heartbeat.ts'

describe('createHeartbeat', () => {
  it('beats every registered target once per interval from one timer', () => {
    mock.timers.enable({ apis: ['setInterval'] })
    try {
      const heartbeat = createHeartbeat({ intervalMs: 1000 })
      const beats = [0, 0, 0]
      for (const i of [0, 1, 2])
        heartbeat.add({ heartbeat: () => (beats[i] = (beats[i] ?? 0) + 1) })
      mock.timers.tick(999)
      assert.deepEqual(beats, [0, 0, 0])
      mock.timers.tick(1)
      assert.deepEqual(beats, [1, 1, 1])
      mock.timers.tick(2000)
      assert.deepEqual(beats, [3, 3, 3])
    } finally {
      mock.timers.reset()
    }
  })

  it('runs its timer only while a target is registered', (t) => {
    const started = t.mock.method(globalThis, 'setInterval')
    const cleared = t.mock.method(globalThis, 'clearInterval')
    const heartbeat = createHeartbeat({ intervalMs: 50_000 })
    const a = { heartbeat() {} }
    const b = { heartbeat() {} }
    heartbeat.add(a)
    heartbeat.add(b)
    assert.equal(started.mock.callCount(), 1, 'two targets, one timer')
    heartbeat.delete(a)
    assert.equal(cleared.mock.callCount(), 0)
    heartbeat.delete(b)
    assert.equal(cleared.mock.callCount(), 1, 'no target, no timer')
    assert.equal(heartbeat.size, 0)
    heartbeat.add(a)
    assert.equal(started.mock.callCount(), 2, 'a new first target starts it again')
    heartbeat.delete(a)
  })

  it('stops beating a target that was deleted', () => {
    mock.timers.enable({ apis: ['setInterval'] })
    try {
      const heartbeat = createHeartbeat({ intervalMs: 10 })
      let beats = 0
      const target = { heartbeat: () => beats++ }
      heartbeat.add(target)
      mock.timers.tick(10)
      heartbeat.delete(target)
      mock.timers.tick(100)
      assert.equal(beats, 1)
    } finally {
      mock.timers.reset()
    }
  })

  it('refuses an interval that is not a positive number', () => {
    assert.throws(() => createHeartbeat({ intervalMs: 0 }), RangeError)
    assert.throws(() => createHeartbeat({ intervalMs: Number.NaN }), RangeError)
  })

  it('shares one heartbeat per interval across the process', () => {
    assert.equal(sharedHeartbeat(12_345), sharedHeartbeat(12_345))
    assert.notEqual(sharedHeartbeat(12_345), sharedHeartbeat(23_456))
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { CommitGather, GATHER_MAX_MS } from './commit-gather.ts'

/** A gather over a counter of waiting appends, and a log of when its flushes ran. */
function gatherFixture() {
  const state = { waiting: 0, flushes: 0 }
  const gather = new CommitGather(() => state.waiting)
  const flush = (): void => {
    state.flushes++
  }
  return { state, gather, flush }
}

describe('CommitGather', () => {
  it('closes the first batch at the end of its turn', async () => {
    const { state, gather, flush } = gatherFixture()
    state.waiting = 1
    gather.schedule(flush)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(state.flushes, 1)
  })

  it('waits for as many appends as the last commit held, then closes the batch', async () => {
    const { state, gather, flush } = gatherFixture()
    gather.committed(3)
    state.waiting = 1
    gather.schedule(flush)
    state.waiting = 2
    gather.added()
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(state.flushes, 0)
    state.waiting = 3
    gather.added()
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(state.flushes, 1)
  })

  it('closes the batch after GATHER_MAX_MS when the appends expected do not come', async () => {
    const { state, gather, flush } = gatherFixture()
    gather.committed(4)
    state.waiting = 1
    gather.schedule(flush)
    await sleep(GATHER_MAX_MS + 20)
    assert.equal(state.flushes, 1)
    // Released once: a late append does not flush it again.
    state.waiting = 4
    gather.added()
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(state.flushes, 1)
  })

  it('closes at the end of the turn, with no wait, a burst larger than the last batch', async () => {
    const { state, gather, flush } = gatherFixture()
    gather.committed(3)
    state.waiting = 7
    gather.schedule(flush)
    // The check phase that resolves this promise is the one the flush was queued in: a wait on
    // the 1 ms timer would only queue the flush in a later loop iteration.
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(state.flushes, 1)
  })

  it('waits no longer than about GATHER_MAX_MS, one short of the last batch', async () => {
    const { state, gather, flush } = gatherFixture()
    gather.committed(64)
    state.waiting = 63
    gather.schedule(flush)
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(state.flushes, 0, 'one short: it waits')
    // No lower bound on the wait in milliseconds: libuv arms the timer from the loop's cached
    // clock, so it may fire well under GATHER_MAX_MS after schedule() on a busy machine (CI saw
    // it). What must hold is that the turn ended without a flush and the timer then closed it.
    await sleep(GATHER_MAX_MS + 50)
    assert.equal(state.flushes, 1)
  })

  it('closes a waiting batch at once on release', async () => {
    const { state, gather, flush } = gatherFixture()
    gather.committed(8)
    state.waiting = 1
    gather.schedule(flush)
    gather.release()
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(state.flushes, 1)
  })
})

import assert from 'node:assert/strict'
import { createHook } from 'node:async_hooks'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createSsehubServer } from '../src/server/server.ts'
import { eventually } from './helpers/raw-sse.ts'

const CYCLES = 1000
const CONCURRENCY = 20

/**
 * Live timers (ref'd or not), counted from their async resource's creation to its destruction.
 * Left out: Node's own cache of the HTTP `Date` header (a one-second timer), and the timers this
 * test itself uses to wait.
 */
function timerCounter() {
  const live = new Set<number>()
  const hook = createHook({
    init(asyncId, type) {
      if (type !== 'Timeout') return
      const frames = (new Error().stack ?? '').split('\n')
      const at = frames.findIndex((frame) =>
        /at (setTimeout|setInterval|setUnrefTimeout) /.test(frame),
      )
      const caller = frames[at + 1] ?? ''
      if (!caller.includes('utcDate') && !caller.includes('/test/')) live.add(asyncId)
    },
    destroy(asyncId) {
      live.delete(asyncId)
    },
  }).enable()
  return { count: () => live.size, stop: () => hook.disable() }
}

/** Opens the clock stream, waits for its first bytes, then aborts. */
function connectThenAbort(url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers: { accept: 'text/event-stream' } }, (res) => {
      res.once('data', () => {
        req.destroy()
        resolve()
      })
    })
    req.on('error', (error) => (req.destroyed ? resolve() : reject(error)))
    req.end()
  })
}

describe('connect-then-abort cycles', () => {
  const hub = createSsehubServer({ heartbeatMs: 1000, clockIntervalMs: 20 })
  let url = ''
  before(async () => {
    url = `${(await hub.listen(0, '127.0.0.1')).url}/demo/clock/stream`
  })
  after(() => hub.close())

  it(`leave no timers, listeners or tracked streams behind after ${CYCLES} cycles`, async () => {
    // One warm-up cycle so lazily created, long-lived objects exist before the baseline.
    await connectThenAbort(url)
    await eventually(() => hub.openStreams === 0, 'warm-up stream closed')
    const timers = timerCounter()
    const listenersBefore = listenerCounts(hub.server)
    const timersBefore = timers.count()
    let done = 0
    let peakStreams = 0
    const worker = async (): Promise<void> => {
      while (done < CYCLES) {
        done++
        await connectThenAbort(url)
        peakStreams = Math.max(peakStreams, hub.openStreams)
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, worker))
    assert.ok(peakStreams > 0, 'streams were really open during the cycles')

    await eventually(
      () => hub.openStreams === 0,
      `tracked streams back to 0 (now ${hub.openStreams})`,
    )
    assert.equal(hub.clock.active, 0, 'every clock timer stopped')
    assert.equal(hub.heartbeat?.size, 0, 'every stream left the shared heartbeat')
    // Timer resources are destroyed asynchronously after clearInterval: give them a moment.
    await eventually(
      () => timers.count() <= timersBefore,
      `timers back to baseline (${timers.count()} > ${timersBefore})`,
    )
    console.log('TIMERS', timers.count(), timersBefore)
    timers.stop()
    assert.deepEqual(listenerCounts(hub.server), listenersBefore, 'no listener added to the server')
  })
})

function listenerCounts(emitter: NodeJS.EventEmitter): Record<string, number> {
  return Object.fromEntries(
    emitter.eventNames().map((name) => [String(name), emitter.listenerCount(name)]),
  )
}

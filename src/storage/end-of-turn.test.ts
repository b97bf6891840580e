import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { encodeEvent } from '../core/encode.ts'
import { type EventSink, EventStream } from '../core/event-stream.ts'
import type { EventStore } from '../hub/event-store.ts'
import { createMemoryStore } from './memory.ts'
import { createSqliteStore } from './sqlite.ts'

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/**
 * Four appends made in one turn, a commit listener that writes each update to 200 streams (as the
 * hub's dispatch does: more than one flush slice of 128), and the order in which the appends are
 * acknowledged, the streams' first writes reach their sinks, and a callback the listener queues
 * for the next turn runs.
 */
async function commitOrder(store: EventStore): Promise<string[]> {
  const events: string[] = []
  let written = 0
  let armed = false
  const sink: EventSink = {
    write: () => {
      written++
      if (armed && written === 1) events.push('first delivery written')
      return true
    },
    end() {},
    destroy() {},
  }
  const streams = Array.from({ length: 200 }, () => new EventStream(sink))
  for (let turn = 0; turn < 5; turn++) await tick()
  written = 0
  armed = true
  let probed = false
  const stop = store.onCommit((updates) => {
    // Queued before the writes: it runs in the next turn ahead of any flush they queue there.
    if (!probed) {
      probed = true
      setImmediate(() => events.push(`next turn (${written} written)`))
    }
    for (const update of updates) {
      const bytes = encodeEvent({ id: update.id, data: update.data })
      for (const stream of streams) stream.write(bytes)
    }
  })
  const appends = Array.from({ length: 4 }, (_, n) =>
    store
      .append({ id: `u${n}`, topics: ['https://example.com/t'], data: `d${n}`, private: false })
      .then(() => events.push(`ack ${n}`)),
  )
  await Promise.all(appends)
  for (let turn = 0; turn < 5; turn++) await tick()
  stop()
  for (const stream of streams) stream.close()
  assert.equal(written, 200, 'each stream written once: its four updates in one write')
  return events
}

describe('scheduleEndOfTurnCommit', () => {
  const expected = [
    'ack 0',
    'ack 1',
    'ack 2',
    'ack 3',
    'first delivery written',
    // The first slice of 128 streams left in the commit's turn; the rest in the next.
    'next turn (128 written)',
  ]

  it('memory: acknowledges the appends of a turn, then writes their deliveries, in the same turn', async () => {
    const store = createMemoryStore()
    try {
      assert.deepEqual(await commitOrder(store), expected)
    } finally {
      await store.close()
    }
  })

  it('SQLite: acknowledges the appends of a turn once committed, then writes their deliveries, in the same turn', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ssehub-end-of-turn-'))
    const store = createSqliteStore({ path: join(dir, 'hub.db') })
    try {
      assert.deepEqual(await commitOrder(store), expected)
    } finally {
      await store.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

import assert from 'node:assert/strict'
import { request } from 'node:http'
import { describe, it } from 'node:test'
import type { Hub } from '../src/hub/hub.ts'
import type { StoredUpdate } from '../src/hub/update.ts'
import { createMemoryStore } from '../src/storage/memory.ts'
import { burst } from './helpers/burst.ts'
import { startTestHub } from './helpers/hub-server.ts'
import { eventually, sleep } from './helpers/raw-sse.ts'
import { subscribeSse } from './helpers/sse-events.ts'

// Catch-ups at their bounds (issue #10): many at once share the memory of history pages; one
// whose history is evicted while it reads ends, and its resume says the gap.

const KiB = 1024
const MiB = 1024 * KiB

describe('many catch-ups at once', () => {
  it('share 16 MiB of history pages: 80 clients resuming together read pages of about 16 MiB / 80 each, and every one of them keeps reading past them', async () => {
    // Pages read from SQLite or Redis are fresh copies held while the client reads them: at 1 MiB
    // each, a reconnect storm held a page per client. The store records the payload of each page
    // it is asked for while all 80 catch-ups run.
    const store = createMemoryStore({ maxUpdates: 10_000 })
    let recording = false
    let largestPage = 0
    let pagesRecorded = 0
    const read = store.read.bind(store)
    store.read = async (after, upTo, limit) => {
      const page = await read(after, upTo, limit)
      if (recording) {
        pagesRecorded++
        const bytes = page.reduce((sum, update) => sum + update.data.length, 0)
        largestPage = Math.max(largestPage, bytes)
      }
      return page
    }
    const hub = await startTestHub({ store })
    const clients: Array<{ req: ReturnType<typeof request>; bytes: number }> = []
    try {
      const mercure = hub.server.mercure?.hub as Hub
      const size = 8 * KiB
      const first = await burst(mercure, 'urn:share', 2000, size)
      const count = 80
      for (let c = 0; c < count; c++) {
        const client = { req: request(`${hub.hubUrl}?topic=urn:share`), bytes: 0 }
        client.req.setHeader('last-event-id', (first[0] as StoredUpdate).id)
        client.req.on('response', (res) => {
          // A slow reader: 32 KiB every 50 ms, so every catch-up lasts for the whole test.
          res.pause()
          const tick = setInterval(() => {
            let taken = 0
            while (taken < 32 * KiB) {
              const chunk = res.read() as Buffer | null
              if (chunk === null) break
              taken += chunk.length
              client.bytes += chunk.length
            }
          }, 50)
          res.on('close', () => clearInterval(tick))
        })
        client.req.on('error', () => {})
        client.req.end()
        clients.push(client)
      }
      await eventually(() => mercure.subscribers.size === count, 'all subscribed', 10_000)
      await sleep(300)
      const share = (16 * MiB) / count
      recording = true
      // Smaller pages, same updates: every client reads well past its first page.
      await eventually(
        () => pagesRecorded >= 2 * count && clients.every((client) => client.bytes > 2 * share),
        'every client reading past two pages',
        20_000,
      )
      recording = false
      assert.ok(
        largestPage <= share + size,
        `a page of ${largestPage} bytes while ${count} catch-ups ran (share ${share})`,
      )
    } finally {
      for (const client of clients) client.req.destroy()
      await hub.close()
    }
  })
})

describe('history evicted while a client catches up', () => {
  it('ends its stream after a gapless prefix, and its resume is answered earliest: the gap is said, never silent', async () => {
    // 1,000 updates retained; the client resumes from the first of 1,000 updates of 32 KiB and
    // stops reading (kernel buffers fill, the catch-up waits); 1,000 more evict everything it
    // had yet to read.
    const hub = await startTestHub({ store: createMemoryStore({ maxUpdates: 1000 }) })
    try {
      const mercure = hub.server.mercure?.hub as Hub
      const first = await burst(mercure, 'urn:evict', 1000, 32 * KiB)
      const ids: string[] = []
      let ended = false
      let text = ''
      const req = request(
        `${hub.hubUrl}?topic=urn:evict`,
        { agent: false, headers: { 'last-event-id': (first[0] as StoredUpdate).id } },
        (res) => {
          res.setEncoding('utf8')
          res.pause()
          res.on('data', (chunk: string) => {
            text += chunk
            const blocks = text.split('\n\n')
            text = blocks.pop() as string
            for (const block of blocks) {
              const id = /^id: (.*)$/m.exec(block)?.[1]
              if (id !== undefined) ids.push(id)
            }
          })
          res.on('close', () => {
            ended = true
          })
          res.on('error', () => {})
        },
      )
      req.on('error', () => {})
      req.end()
      await eventually(() => mercure.subscribers.size === 1, 'subscribed')
      const [subscriber] = [...mercure.subscribers]
      await eventually(
        () => subscriber?.stream.paused === true,
        'the client stopped taking',
        10_000,
      )
      await burst(mercure, 'urn:evict', 1000, 32 * KiB, 1000)
      // It reads again: what it was sent is in order, then the stream ends where history is gone.
      ;(req as unknown as { res: { resume(): void } }).res.resume()
      await eventually(() => ended, 'the stream ends at the gap', 30_000)
      assert.ok(ids.length > 0 && ids.length < 999, `got ${ids.length} updates before the gap`)
      assert.deepEqual(
        ids,
        first.slice(1, ids.length + 1).map((u) => u.id),
        'a gapless prefix of the history',
      )
      const resumed = await subscribeSse(`${hub.hubUrl}?topic=urn:evict`, {
        'last-event-id': ids.at(-1) as string,
      })
      assert.equal(
        resumed.headers['last-event-id'],
        'earliest',
        'the protocol says: you missed updates',
      )
      resumed.close()
    } finally {
      await hub.close()
    }
  })
})

import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createSqliteStore } from '../src/storage/sqlite.ts'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'
import { openRawSse } from './helpers/raw-sse.ts'
import { subscribeSse } from './helpers/sse-events.ts'

const q = (...selectors: string[]) =>
  selectors.map((s) => `topic=${encodeURIComponent(s)}`).join('&')

describe('history and reconnection', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub()
    for (let i = 1; i <= 6; i++) {
      await hub.publishOk([
        ['topic', i % 2 === 0 ? 'urn:even' : 'urn:odd'],
        ['id', `urn:r:${i}`],
        ['data', `u${i}`],
      ])
    }
    await hub.publishOk([
      ['topic', 'urn:even'],
      ['id', 'urn:r:secret'],
      ['private', 'on'],
      ['data', 'hidden'],
    ])
    await hub.publishOk([
      ['topic', 'urn:odd'],
      ['id', 'urn:r:…é'],
      ['data', 'u8'],
    ])
  })
  after(() => hub.close())

  it('replays the updates after Last-Event-ID, filtered by topic and private rules, then goes live', async () => {
    const sub = await subscribeSse(`${hub.hubUrl}?${q('urn:even')}`, { 'last-event-id': 'urn:r:1' })
    assert.equal(sub.headers['last-event-id'], 'urn:r:1')
    assert.equal(sub.headers['mercure-last-event-id'], 'urn:r:1')
    await sub.waitForEvents(3)
    await hub.publishOk([
      ['topic', 'urn:even'],
      ['id', 'urn:r:live'],
      ['data', 'live'],
    ])
    await sub.waitForEvents(4)
    assert.deepEqual(
      sub.events.map((e) => e.lastEventId),
      ['urn:r:2', 'urn:r:4', 'urn:r:6', 'urn:r:live'],
    )
    sub.close()
  })

  it('accepts lastEventID (and last_event_id) in the query, the header winning over both', async () => {
    const byQuery = await subscribeSse(`${hub.hubUrl}?${q('urn:odd')}&lastEventID=urn:r:3`)
    await byQuery.waitForEvents(2)
    assert.deepEqual(
      byQuery.events.slice(0, 2).map((e) => e.data),
      ['u5', 'u8'],
    )
    const draft8 = await subscribeSse(`${hub.hubUrl}?${q('urn:odd')}&last_event_id=urn:r:5`)
    await draft8.waitForEvents(1)
    assert.equal(draft8.events[0]?.data, 'u8')
    const both = await subscribeSse(`${hub.hubUrl}?${q('urn:odd')}&lastEventID=urn:r:1`, {
      'last-event-id': 'urn:r:5',
    })
    assert.equal(both.headers['last-event-id'], 'urn:r:5')
    await both.waitForEvents(1)
    assert.equal(both.events[0]?.data, 'u8')
    for (const sub of [byQuery, draft8, both]) sub.close()
  })

  it('resumes from a UTF-8 id sent as UTF-8 bytes', async () => {
    await hub.publishOk([
      ['topic', 'urn:odd'],
      ['id', 'urn:r:after-utf8'],
      ['data', 'after'],
    ])
    const wire = Buffer.from('urn:r:…é', 'utf8').toString('latin1')
    const sub = await subscribeSse(`${hub.hubUrl}?${q('urn:odd')}`, { 'last-event-id': wire })
    assert.equal(
      Buffer.from(sub.headers['last-event-id'] as string, 'latin1').toString('utf8'),
      'urn:r:…é',
    )
    await sub.waitForEvents(1)
    assert.equal(sub.events[0]?.data, 'after')
    sub.close()
  })

  it('sends the whole history for "earliest" and answers earliest', async () => {
    const sub = await subscribeSse(`${hub.hubUrl}?${q('urn:even')}`, {
      'last-event-id': 'earliest',
    })
    assert.equal(sub.headers['last-event-id'], 'earliest')
    await sub.waitForEvents(3)
    assert.deepEqual(
      sub.events.slice(0, 3).map((e) => e.data),
      ['u2', 'u4', 'u6'],
    )
    sub.close()
  })

  it('answers earliest and replays nothing for an unknown id, so the client can tell', async () => {
    const sub = await subscribeSse(`${hub.hubUrl}?${q('*')}`, {
      'last-event-id': 'urn:never-published',
    })
    assert.equal(sub.headers['last-event-id'], 'earliest')
    await hub.publishOk([
      ['topic', 'urn:odd'],
      ['id', 'urn:r:fresh'],
      ['data', 'fresh'],
    ])
    await sub.waitForEvents(1)
    assert.deepEqual(
      sub.events.map((e) => e.data),
      ['fresh'],
    )
    sub.close()
  })

  it('gives a subscriber without a cursor that asks (cursor=1) the newest id at once, so nothing is lost if it drops before any event', async () => {
    const newest = await hub.publishOk([
      ['topic', 'urn:quiet'],
      ['id', 'urn:r:newest'],
      ['data', 'before'],
    ])
    const raw = await openRawSse(`${hub.hubUrl}?${q('urn:elsewhere')}&cursor=1`)
    await raw.waitFor((text) => text.startsWith(': ok\n'))
    const text = await raw.waitFor((t) => t.includes(`id: ${newest}\n\n`))
    assert.ok(!text.includes('data:'), 'an id-only block: no event is dispatched')
    raw.abort()
    // Published while the client is away; it resumes from the id it was given and gets it.
    await hub.publishOk([
      ['topic', 'urn:elsewhere'],
      ['id', 'urn:r:while-away'],
      ['data', 'missed?'],
    ])
    const resumed = await subscribeSse(`${hub.hubUrl}?${q('urn:elsewhere')}`, {
      'last-event-id': newest,
    })
    await resumed.waitForEvents(1)
    assert.equal(resumed.events[0]?.data, 'missed?')
    resumed.close()
  })

  it('sends no id-only block to a subscriber that did not ask: third-party clients would show it as an empty message', async () => {
    await hub.publishOk([
      ['topic', 'urn:quiet'],
      ['id', 'urn:r:not-announced'],
      ['data', 'before'],
    ])
    const raw = await openRawSse(`${hub.hubUrl}?${q('urn:quiet-2')}`)
    await raw.waitFor((text) => text.startsWith(': ok\n'))
    await hub.publishOk([
      ['topic', 'urn:quiet-2'],
      ['id', 'urn:r:first-event'],
      ['data', 'first'],
    ])
    const text = await raw.waitFor((t) => t.includes('data: first'))
    assert.equal(
      text.indexOf('id: '),
      text.indexOf('id: urn:r:first-event'),
      'the first id is the first event',
    )
    raw.abort()
  })

  it('resumes from the lastEventId query parameter, the spelling of event-source-polyfill', async () => {
    const from = await hub.publishOk([
      ['topic', 'urn:polyfill'],
      ['data', 'seen'],
    ])
    await hub.publishOk([
      ['topic', 'urn:polyfill'],
      ['data', 'missed while away'],
    ])
    const sub = await subscribeSse(
      `${hub.hubUrl}?${q('urn:polyfill')}&lastEventId=${encodeURIComponent(from)}`,
    )
    await sub.waitForEvents(1)
    assert.equal(sub.events[0]?.data, 'missed while away')
    assert.equal(sub.headers['last-event-id'], from)
    sub.close()
  })

  it('sets no Last-Event-ID header when the request had no cursor', async () => {
    const sub = await subscribeSse(`${hub.hubUrl}?${q('*')}`)
    assert.equal(sub.headers['last-event-id'], undefined)
    sub.close()
  })
})

describe('the seam between history and live updates', () => {
  const UPDATES = 10_000
  const CONCURRENCY = 32
  const JOINERS = 8
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-seam-'))
  const store = createSqliteStore({ path: join(dir, 'seam.db'), synchronous: 'normal' })
  let hub: TestHub
  before(async () => {
    hub = await startTestHub({ store })
  })
  after(async () => {
    await hub.close()
    await store.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it(`gives subscribers joining mid-stream every later update exactly once, across ${UPDATES} updates`, async () => {
    // The observer, there from the start, sees the hub's own order: the ground truth.
    const observer = await subscribeSse(`${hub.hubUrl}?${q('*')}`)
    const acknowledged: string[] = []
    const joiners: Array<{ from: string; sub: Awaited<ReturnType<typeof subscribeSse>> }> = []
    let next = 0
    const publisher = async (): Promise<void> => {
      while (next < UPDATES) {
        const n = next++
        const id = await hub.publishOk([
          ['topic', `urn:seam:${n % 10}`],
          ['id', `urn:seam:${n}`],
          ['data', String(n)],
        ])
        acknowledged.push(id)
        // Now and then a subscriber joins from an id acknowledged a moment ago, mid-flood.
        if (n > 0 && n % Math.floor(UPDATES / (JOINERS + 1)) === 0 && joiners.length < JOINERS) {
          const from = acknowledged[acknowledged.length - 1 - (n % 50)] as string
          joiners.push({
            from,
            sub: await subscribeSse(`${hub.hubUrl}?${q('*')}`, { 'last-event-id': from }),
          })
        }
      }
    }
    await Promise.all(Array.from({ length: CONCURRENCY }, publisher))
    await observer.waitForEvents(UPDATES, 60_000)
    const order = observer.events.map((e) => e.lastEventId)
    assert.equal(new Set(order).size, UPDATES, 'the observer got every update once')
    assert.equal(joiners.length, JOINERS)
    for (const { from, sub } of joiners) {
      const expected = order.slice(order.indexOf(from) + 1)
      await sub.waitForEvents(expected.length, 60_000)
      assert.equal(sub.headers['last-event-id'], from)
      assert.deepEqual(
        sub.events.map((e) => e.lastEventId),
        expected,
        `joined after ${from}`,
      )
      sub.close()
    }
    observer.close()
  })
})

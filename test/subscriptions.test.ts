import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'
import { eventually } from './helpers/raw-sse.ts'
import { subscribeSse } from './helpers/sse-events.ts'

const PATH = '/.well-known/mercure/subscriptions'

describe('active subscriptions', () => {
  let hub: TestHub
  let watcherToken = ''
  before(async () => {
    hub = await startTestHub({ subscriptions: true })
    watcherToken = await hub.token({ subscribe: [`${PATH}{/topic}{/subscriber}`] })
  })
  after(() => hub.close())

  it('publishes a private JSON-LD event when a subscription starts and ends', async () => {
    const watcher = await subscribeSse(
      `${hub.hubUrl}?topic=${encodeURIComponent(`${PATH}{/topic}{/subscriber}`)}`,
      {
        authorization: `Bearer ${watcherToken}`,
      },
    )
    const anonymous = await subscribeSse(`${hub.hubUrl}?topic=*`)
    const member = await subscribeSse(
      `${hub.hubUrl}?topic=${encodeURIComponent('https://example.com/rooms/1')}`,
      {
        authorization: `Bearer ${await hub.token({ subscribe: [], payload: { name: 'Ada' } })}`,
      },
    )
    // Three subscriptions started: the watcher's own, the anonymous one, the member's.
    await watcher.waitForEvents(3)
    const joined = watcher.events
      .map((e) => JSON.parse(e.data))
      .find((d) => d.topic === 'https://example.com/rooms/1')
    assert.ok(joined, 'an event for the member subscription')
    assert.equal(joined['@context'], 'https://mercure.rocks/')
    assert.equal(joined.type, 'Subscription')
    assert.equal(joined.active, true)
    assert.deepEqual(joined.payload, { name: 'Ada' })
    assert.match(joined.subscriber, /^urn:uuid:/)
    assert.equal(
      joined.id,
      `${PATH}/${encodeURIComponent('https://example.com/rooms/1')}/${encodeURIComponent(joined.subscriber)}`,
    )
    const before = watcher.events.length
    member.close()
    await watcher.waitForEvents(before + 1)
    const left = JSON.parse(watcher.events.at(-1)?.data ?? '{}')
    assert.equal(left.active, false)
    assert.equal(left.subscriber, joined.subscriber)
    assert.ok(
      !anonymous.events.some((e) => e.data.includes('Subscription')),
      'subscription events are private',
    )
    anonymous.close()
    watcher.close()
  })

  it('lists subscriptions with lastEventID, ETag and 304', async () => {
    const member = await subscribeSse(`${hub.hubUrl}?topic=urn:room:2`)
    await eventually(() => hub.server.mercure?.hub.subscribers.size === 1, 'one subscriber')
    const res = await fetch(`${hub.base}${PATH}`, {
      headers: { authorization: `Bearer ${watcherToken}` },
    })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/ld+json')
    const list = await res.json()
    assert.equal(list.type, 'Subscriptions')
    assert.equal(list.id, PATH)
    assert.equal(typeof list.lastEventID, 'string')
    assert.equal(list.subscriptions.length, 1)
    assert.equal(list.subscriptions[0].topic, 'urn:room:2')
    const etag = res.headers.get('etag') ?? ''
    const cached = await fetch(`${hub.base}${PATH}`, {
      headers: { authorization: `Bearer ${watcherToken}`, 'if-none-match': etag },
    })
    assert.equal(cached.status, 304)

    const { subscriber } = list.subscriptions[0]
    const one = await fetch(
      `${hub.base}${PATH}/${encodeURIComponent('urn:room:2')}/${encodeURIComponent(subscriber)}`,
      {
        headers: { authorization: `Bearer ${watcherToken}` },
      },
    )
    assert.equal(one.status, 200)
    const single = await one.json()
    assert.equal(single.subscriber, subscriber)
    assert.equal(single.active, true)
    const missing = await fetch(
      `${hub.base}${PATH}/${encodeURIComponent('urn:room:2')}/urn%3Auuid%3Anope`,
      {
        headers: { authorization: `Bearer ${watcherToken}` },
      },
    )
    assert.equal(missing.status, 404)
    member.close()
  })

  it('refuses the API without a token (401) or with one whose claim does not cover the path (403)', async () => {
    assert.equal((await fetch(`${hub.base}${PATH}`)).status, 401)
    const narrow = await hub.token({ subscribe: ['https://example.com/{x}'] })
    const res = await fetch(`${hub.base}${PATH}`, {
      headers: { authorization: `Bearer ${narrow}` },
    })
    assert.equal(res.status, 403)
    assert.match(await res.text(), /does not allow/)
  })
})

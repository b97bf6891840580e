// Issue #11, item 5: a publish whose form is not well-formed UTF-8 is refused, not repaired. The
// WHATWG form parser (URLSearchParams) turns bytes that are not UTF-8 into U+FFFD and keeps a "%"
// that starts no escape as it is, so such a publish used to be answered 200 and delivered with
// replacement characters (or with the "%" escapes left in): the publisher never learned its
// encoding was broken. Now it gets a 400 naming the field, and a charset other than UTF-8 a 415.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createMemoryStore } from '../../src/storage/memory.ts'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'
import { sleep } from '../helpers/raw-sse.ts'
import { type SseSubscription, subscribeSse } from '../helpers/sse-events.ts'

const TOPIC = 'https://example.com/encoding'
const FORM = 'application/x-www-form-urlencoded'
/** The topic, as every body below starts. */
const HEAD = `topic=${encodeURIComponent(TOPIC)}`

describe('a publish with a form that is not well-formed UTF-8', () => {
  const store = createMemoryStore()
  let hub: TestHub
  let watcher: SseSubscription
  before(async () => {
    hub = await startTestHub({ store })
    watcher = await subscribeSse(`${hub.hubUrl}?topic=*`)
  })
  after(async () => {
    watcher.close()
    await hub.close()
    await store.close()
  })

  const post = async (body: string | Buffer, contentType = FORM) => {
    const res = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: {
        'content-type': contentType,
        authorization: `Bearer ${await hub.token({ publish: ['*'] })}`,
      },
      body: typeof body === 'string' ? body : new Uint8Array(body),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, text: await res.text() }
  }

  const refusals: Array<[string, string | Buffer, RegExp]> = [
    ['"%zz" in data', `${HEAD}&data=%zz`, /"data" field has a "%" that is not followed/],
    ['a lone "%" ending data', `${HEAD}&data=50%`, /"data" field has a "%"/],
    ['a truncated sequence (%E0%A4) in data', `${HEAD}&data=%E0%A4`, /"data" field .* not UTF-8/],
    ['an overlong sequence (%C0%AF) in id', `${HEAD}&id=%C0%AF`, /"id" field .* not UTF-8/],
    ['an escaped surrogate (%ED%A0%80) in type', `${HEAD}&type=%ED%A0%80`, /"type" field/],
    ['a stray byte (%FF) in a topic', 'topic=https%3A%2F%2Fexample.com%2F%FF', /"topic" field/],
    [
      'a raw byte that is not UTF-8 in data',
      Buffer.concat([Buffer.from(`${HEAD}&data=caf`), Buffer.from([0xe9])]),
      /"data" field has bytes that are not UTF-8/,
    ],
    ['a broken escape in an unknown field', `${HEAD}&data=fine&extra=%zz`, /"extra" field/],
  ]
  for (const [name, body, message] of refusals) {
    it(`answers 400 naming the field to ${name}, and stores nothing`, async () => {
      const before = await store.size()
      const { status, text } = await post(body)
      assert.equal(status, 400, text)
      assert.match(text, message)
      assert.equal(await store.size(), before, 'the update was stored')
    })
  }

  it('answers 415 to a charset other than UTF-8, and stores nothing', async () => {
    const before = await store.size()
    for (const charset of ['iso-8859-1', '"windows-1252"', 'utf-16']) {
      const { status, text } = await post(`${HEAD}&data=caf%E9`, `${FORM}; charset=${charset}`)
      assert.equal(status, 415, text)
      assert.match(text, /Publish the form in UTF-8/)
    }
    assert.equal(await store.size(), before, 'the update was stored')
  })

  it('dispatched none of the refused publishes', async () => {
    await sleep(50)
    assert.deepEqual(watcher.events, [])
  })
})

describe('a well-formed publish, as Mercure clients send it', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub()
  })
  after(() => hub.close())

  it('is delivered exactly: "+" is a space, no charset or charset=utf-8 means UTF-8, raw UTF-8 is kept', async () => {
    const sub = await subscribeSse(`${hub.hubUrl}?topic=${encodeURIComponent(TOPIC)}`)
    const token = await hub.token({ publish: ['*'] })
    const bodies: Array<[string, string | Buffer]> = [
      [FORM, `${HEAD}&data=a+b%2Bc`],
      [`${FORM}; charset=UTF-8`, `${HEAD}&data=caf%C3%A9+%E2%82%AC`],
      [FORM, Buffer.from(`${HEAD}&data=raw+café+😀`)],
    ]
    for (const [contentType, body] of bodies) {
      const res = await fetch(hub.hubUrl, {
        method: 'POST',
        headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      })
      assert.equal(res.status, 200, await res.text())
    }
    const events = await sub.waitForEvents(3)
    sub.close()
    assert.deepEqual(
      events.map((event) => event.data),
      ['a b+c', 'café €', 'raw café 😀'],
    )
  })
})

describe('a subscription whose query string is not well-formed UTF-8', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub()
  })
  after(() => hub.close())

  it('is refused with 400 naming the field, never subscribed to a topic no publish can carry', async () => {
    for (const query of ['topic=%ZZ', 'topic=%C3%28', 'topic=a%', `topic=ok&lastEventID=%FF`]) {
      const res = await fetch(`${hub.hubUrl}?${query}`)
      const text = await res.text()
      assert.equal(res.status, 400, `${query}: ${res.status}`)
      assert.match(text, /Bad query string: The "(topic|lastEventID)" field/, query)
    }
    assert.equal(hub.server.mercure?.hub.subscribers.size, 0)
    // Well-formed escapes still subscribe.
    const ok = await subscribeSse(
      `${hub.hubUrl}?topic=${encodeURIComponent('https://example.com/é?x=1')}`,
    )
    ok.close()
  })
})

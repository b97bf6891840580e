import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SignJWT } from 'jose'
import { createMemoryStore } from '../src/storage/memory.ts'
import { startTestHub, TEST_SECRET, type TestHub } from './helpers/hub-server.ts'
import { sleep } from './helpers/raw-sse.ts'
import { subscribeSse } from './helpers/sse-events.ts'

const TOPIC = 'https://example.com/books/1'

describe('publishing to the hub', () => {
  const store = createMemoryStore()
  let hub: TestHub
  before(async () => {
    hub = await startTestHub({
      store,
      maxBodyBytes: 4096,
      publishOrigins: ['https://app.example.com'],
    })
  })
  after(async () => {
    await hub.close()
    await store.close()
  })

  it('answers 200 text/plain with the generated urn:uuid id', async () => {
    const res = await hub.publish({ topic: TOPIC, data: 'hello' })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    // One shared set of header fields for every such answer (hub-answer.ts), each sent once.
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(res.headers.get('cache-control'), 'no-store')
    const id = await res.text()
    assert.match(id, /^urn:uuid:[0-9a-f-]{36}$/)
    assert.equal(res.headers.get('content-length'), String(id.length))
    // A second answer from the same shared fields is no different (nothing was added to them).
    const again = await hub.publish({ topic: TOPIC, data: 'hello' })
    assert.deepEqual([...again.headers.keys()].sort(), [...res.headers.keys()].sort())
    assert.equal(again.headers.get('content-length'), String((await again.text()).length))
  })

  it("honours the publisher's id", async () => {
    assert.equal(await hub.publishOk({ topic: TOPIC, id: 'urn:example:42' }), 'urn:example:42')
  })

  it('delivers the update with id, type, retry and data exactly', async () => {
    const sub = await subscribeSse(`${hub.hubUrl}?topic=${encodeURIComponent(TOPIC)}`)
    await hub.publishOk({
      topic: TOPIC,
      id: 'urn:x:exact',
      type: 'book',
      retry: '2500',
      data: '\n  leading\n\nlast',
    })
    const [event] = await sub.waitForEvents(1)
    sub.close()
    assert.deepEqual(event, {
      type: 'book',
      data: '\n  leading\n\nlast',
      lastEventId: 'urn:x:exact',
    })
  })

  it('stores a reused id with other content as a new update and an identical retry once; a resume at the id replays from the earliest', async () => {
    const topic = 'https://example.com/books/duplicate'
    const url = `${hub.hubUrl}?topic=${encodeURIComponent(topic)}`
    const live = await subscribeSse(url)
    const first = { topic, id: 'urn:example:dup', data: 'first' }
    assert.equal(await hub.publishOk(first), 'urn:example:dup')
    await hub.publishOk({ topic, id: 'urn:example:dup-next', data: 'next' })
    // [spec] Ids SHOULD be unique, but the hub accepts a reused one (Mercure draft-08).
    const reused = await hub.publish({ ...first, data: 'second' })
    assert.equal(reused.status, 200)
    assert.equal(await reused.text(), 'urn:example:dup', 'the id echoed')
    assert.equal(await hub.publishOk(first), 'urn:example:dup', 'an identical retry: 200')
    assert.equal(await hub.publishOk({ ...first, data: 'second' }), 'urn:example:dup')
    await hub.publishOk({ topic, id: 'urn:example:dup-end', data: 'end' })
    const seen = (events: readonly { lastEventId: string; data: string }[]) =>
      events.map((event) => `${event.lastEventId} ${event.data}`)
    await live.waitForEvents(4)
    await sleep(50)
    live.close()
    assert.deepEqual(seen(live.events), [
      'urn:example:dup first',
      'urn:example:dup-next next',
      'urn:example:dup second',
      'urn:example:dup-end end',
    ])
    // A resume at the reused id starts after its earliest update: the later reuse follows, and
    // the earlier one was neither replaced nor erased.
    const resumed = await subscribeSse(url, { 'last-event-id': 'urn:example:dup' })
    await resumed.waitForEvents(3)
    await sleep(50)
    resumed.close()
    assert.deepEqual(seen(resumed.events), [
      'urn:example:dup-next next',
      'urn:example:dup second',
      'urn:example:dup-end end',
    ])
    const all = await subscribeSse(url, { 'last-event-id': 'earliest' })
    await all.waitForEvents(4)
    all.close()
    assert.deepEqual(seen(all.events), seen(live.events))
  })

  it('refuses malformed fields with 400 and a message', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ data: 'x' }, /Missing "topic"/],
      [{ topic: TOPIC, id: 'a\nid: injected' }, /"id" must not contain CR, LF or NUL/],
      [{ topic: TOPIC, type: 'a\rb' }, /"type" must not contain CR, LF or NUL/],
      [{ topic: TOPIC, retry: 'soon' }, /"retry" must be a whole number/],
    ]
    for (const [fields, message] of cases) {
      const res = await hub.publish(fields)
      assert.equal(res.status, 400, JSON.stringify(fields))
      assert.match(await res.text(), message)
    }
  })

  it('refuses a body over the limit with 413 and another content type with 415', async () => {
    const big = await hub.publish({ topic: TOPIC, data: 'x'.repeat(5000) })
    assert.equal(big.status, 413)
    assert.match(await big.text(), /larger than 4096 bytes/)
    const json = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${await hub.token({ publish: ['*'] })}`,
      },
      body: JSON.stringify({ topic: TOPIC }),
    })
    assert.equal(json.status, 415)
    assert.match(await json.text(), /application\/x-www-form-urlencoded/)
  })

  it('refuses topics under the hub path with 403', async () => {
    const res = await hub.publish({ topic: '/.well-known/mercure/subscriptions/x/y', data: '{}' })
    assert.equal(res.status, 403)
    assert.match(await res.text(), /reserved/)
  })

  describe('authorization failures, none of which dispatches anything', () => {
    const now = Math.floor(Date.now() / 1000)
    const secretKey = new TextEncoder().encode(TEST_SECRET)
    const sign = (
      claims: Record<string, unknown>,
      header: Record<string, unknown> = { alg: 'HS256' },
    ) => new SignJWT(claims).setProtectedHeader(header as { alg: string }).sign(secretKey)
    const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

    const failures: Array<[string, () => Promise<string | null>, number, RegExp]> = [
      ['no token', async () => null, 401, /requires a token/],
      [
        'a token signed with another key',
        () => hub.token({ publish: ['*'] }, 'another-secret-that-is-long-enough-000'),
        401,
        /signature/i,
      ],
      [
        'an unsigned token (alg: none)',
        async () => `${base64url({ alg: 'none' })}.${base64url({ mercure: { publish: ['*'] } })}.`,
        401,
        /none|not allowed/i,
      ],
      [
        'an expired token',
        () => sign({ mercure: { publish: ['*'] }, exp: now - 60 }),
        401,
        /expired/i,
      ],
      [
        'a token not yet valid',
        () => sign({ mercure: { publish: ['*'] }, nbf: now + 3600 }),
        401,
        /not (yet )?valid|nbf/i,
      ],
      [
        'a token with HS512 when only HS256 is allowed',
        async () =>
          new SignJWT({ mercure: { publish: ['*'] } })
            .setProtectedHeader({ alg: 'HS512' })
            .sign(new TextEncoder().encode(TEST_SECRET.repeat(2))),
        401,
        /HS512/,
      ],
      [
        'a token without the mercure.publish claim',
        () => sign({ mercure: { subscribe: ['*'] } }),
        403,
        /mercure\.publish/,
      ],
      [
        'a token whose claim does not allow the topic',
        () => sign({ mercure: { publish: ['https://example.com/authors/{id}'] } }),
        403,
        /does not allow the topic "https:\/\/example.com\/books\/1"/,
      ],
    ]
    for (const [name, makeToken, status, message] of failures) {
      it(`answers ${status} to ${name}`, async () => {
        const before = await store.size()
        const watcher = await subscribeSse(`${hub.hubUrl}?topic=*`)
        const token = await makeToken()
        const res = await hub.publish({ topic: TOPIC, data: 'must not arrive' }, token)
        const text = await res.text()
        assert.equal(res.status, status, text)
        assert.match(text, message)
        if (status === 401)
          assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm="ssehub"/)
        if (token !== null)
          assert.ok(
            !text.includes(token) && !(res.headers.get('www-authenticate') ?? '').includes(token),
            'the token is never echoed',
          )
        assert.ok(!text.includes(TEST_SECRET), 'the secret is never echoed')
        await sleep(50)
        assert.equal(watcher.events.length, 0, 'nothing was dispatched')
        assert.equal(await store.size(), before, 'nothing was stored')
        watcher.close()
      })
    }
  })

  describe('with the authorization cookie (CSRF)', () => {
    const post = async (headers: Record<string, string>) => {
      const token = await hub.token({ publish: ['*'] })
      return fetch(hub.hubUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: `mercureAuthorization=${token}`,
          ...headers,
        },
        body: new URLSearchParams({ topic: TOPIC, data: 'x' }).toString(),
      })
    }

    it('accepts a publish from an allowed origin', async () => {
      assert.equal((await post({ origin: 'https://app.example.com' })).status, 200)
      assert.equal((await post({ referer: 'https://app.example.com/page' })).status, 200)
    })

    it('refuses one from another origin, or with neither Origin nor Referer', async () => {
      const evil = await post({ origin: 'https://evil.example' })
      assert.equal(evil.status, 403)
      assert.match(await evil.text(), /evil\.example/)
      const none = await post({})
      assert.equal(none.status, 403)
      assert.match(await none.text(), /Origin or Referer/)
    })
  })
})

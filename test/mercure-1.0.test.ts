import assert from 'node:assert/strict'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { createParser, type SseMessage } from '../src/core/parse.ts'
import { accessToken, DETAIL, grant, ISSUER, RESOURCE } from './helpers/access-token.ts'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'
import { subscribeSse } from './helpers/sse-events.ts'

// Mercure 1.0 (draft-dunglas-mercure-08) beside 0.x on one hub: what the Mercure project's own
// conformance suite checks (see scripts/mercure-conformance.sh), and the MUSTs it does not.

describe('Mercure 1.0 and 0.x on one hub', () => {
  let hub: TestHub
  let publisher: string
  before(async () => {
    hub = await startTestHub({
      trustedIssuers: [{ issuer: ISSUER }],
      resourceIdentifier: RESOURCE,
    })
    publisher = await accessToken([grant(['publish'], { match: '*' })])
  })
  after(() => hub.close())

  const publish = (fields: Array<[string, string]>, token = publisher) => hub.publish(fields, token)
  const random = () => crypto.randomUUID().replaceAll('-', '')

  it('delivers an update published with a 1.0 token to a match subscriber, as the suite does', async () => {
    const topic = random()
    const sub = await subscribeSse(`${hub.hubUrl}?match=foo&match=${topic}`)
    assert.equal(sub.status, 200)
    const id = `id-${JSON.stringify([topic])}`
    const data = 'data for\n\n        raw string'
    const res = await publish([
      ['topic', topic],
      ['id', id],
      ['data', data],
    ])
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8')
    assert.equal(await res.text(), id)
    const [event] = await sub.waitForEvents(1)
    assert.deepEqual(
      { id: event?.lastEventId, data: event?.data, type: event?.type },
      { id, data, type: 'message' },
    )
    sub.close()
  })

  it('matches URL patterns (relative ones against the hub URL) and not what they exclude', async () => {
    const rs = random()
    const yes = await subscribeSse(
      `${hub.hubUrl}?match_urlpattern=${encodeURIComponent('https://example.net/foo/:random')}`,
    )
    const no = await subscribeSse(
      `${hub.hubUrl}?match_urlpattern=${encodeURIComponent('https://example.net/bar/:var')}`,
    )
    const relative = await subscribeSse(
      `${hub.hubUrl}?match_urlpattern=${encodeURIComponent('/books/:id')}`,
    )
    await publish([['topic', `https://example.net/foo/${rs}`]])
    await publish([['topic', 'https://localhost/books/1']])
    await publish([['topic', '/books/2']])
    await publish([['topic', 'https://other.example/books/3']])
    const [first] = await yes.waitForEvents(1)
    assert.ok(first !== undefined)
    const books = await relative.waitForEvents(2)
    assert.equal(books.length, 2)
    await new Promise((resolve) => setTimeout(resolve, 100))
    assert.equal(no.events.length, 0)
    assert.equal(yes.events.length, 1)
    assert.equal(relative.events.length, 2)
    for (const sub of [yes, no, relative]) sub.close()
  })

  it('withholds private updates from anonymous subscribers, and gives them to a granted token', async () => {
    const topic = `https://example.net/foo/${random()}`
    const anonymous = await subscribeSse(`${hub.hubUrl}?match=${encodeURIComponent(topic)}`)
    const reader = await accessToken([
      grant(['subscribe'], { match: 'https://example.net/foo/:x', match_type: 'urlpattern' }),
    ])
    const allowed = await subscribeSse(`${hub.hubUrl}?match=${encodeURIComponent(topic)}`, {
      authorization: `Bearer ${reader}`,
    })
    assert.equal(allowed.status, 200)
    await publish([
      ['topic', topic],
      ['private', 'on'],
      ['data', 'secret'],
    ])
    await publish([
      ['topic', topic],
      ['data', 'public'],
    ])
    const events = await allowed.waitForEvents(2)
    assert.deepEqual(
      events.map((event) => event.data),
      ['secret', 'public'],
    )
    const [seen] = await anonymous.waitForEvents(1)
    assert.equal(seen?.data, 'public')
    assert.equal(anonymous.events.length, 1)
    anonymous.close()
    allowed.close()
  })

  it('answers 400 to reserved match names, mixed protocols and bad values', async () => {
    const refused = [
      'Match=a',
      'MATCH_EXACT=a',
      'matches=a',
      'match_foo=a',
      'match_uritemplate=a',
      'match=a&topic=a',
      `match_urlpattern=${encodeURIComponent('https://example.com/(a')}`,
      'match=a%00b',
      'match=a%E2%80%AEb',
      'match=a%C2%85',
      `match=${'x'.repeat(2049)}`,
      Array.from({ length: 1001 }, (_, i) => `match=t${i}`).join('&'),
    ]
    for (const query of refused) {
      const res = await fetch(`${hub.hubUrl}?${query}`)
      assert.equal(res.status, 400, query.slice(0, 60))
      assert.match(await res.text(), /\S/)
    }
    const fine = await fetch(
      `${hub.hubUrl}?${Array.from({ length: 1000 }, (_, i) => `match=t${i}`).join('&')}`,
      {
        method: 'HEAD',
      },
    )
    assert.equal(fine.status, 200)
  })

  it('treats * as the wildcard for every matcher type', async () => {
    const all = await subscribeSse(`${hub.hubUrl}?match_urlpattern=*`)
    const exact = await subscribeSse(`${hub.hubUrl}?match=*`)
    await publish([['topic', `urn:x:${random()}`]])
    await all.waitForEvents(1)
    await exact.waitForEvents(1)
    all.close()
    exact.close()
  })

  it('refuses 1.0 publishes that break the topic, id and type rules with 400, whatever the grant', async () => {
    for (const fields of [
      [['topic', '*']],
      [['topic', '/.well-known/mercure/subscriptions/exact/a/b']],
      [['topic', '/.well-known/%6Dercure/x']],
      [['topic', 'mercure']],
      [['topic', 'https://evil.example/.well-known/mercure']],
      [['topic', 'a\u200bb']],
      [
        ['topic', 'a'],
        ['type', 'mercure'],
      ],
      [
        ['topic', 'a'],
        ['id', '#frag'],
      ],
      [
        ['topic', 'a'],
        ['id', 'earliest'],
      ],
      [
        ['topic', 'a'],
        ['retry', '1e3'],
      ],
    ] as Array<Array<[string, string]>>) {
      const res = await publish(fields)
      assert.equal(res.status, 400, JSON.stringify(fields))
    }
  })

  it('answers 403 insufficient_scope with resource_metadata to a topic the token does not grant', async () => {
    const reader = await accessToken([grant(['subscribe'], { match: '*' })])
    const none = await publish([['topic', 'urn:other']], reader)
    assert.equal(none.status, 403)
    assert.match(await none.text(), /authorization_details grant no "publish"/)
    const narrow = await accessToken([grant(['publish'], { match: 'urn:only' })])
    const res = await publish([['topic', 'urn:other']], narrow)
    assert.equal(res.status, 403)
    assert.equal(
      res.headers.get('www-authenticate'),
      `Bearer realm="ssehub", error="insufficient_scope", error_description="${(await res.text()).trim().replaceAll('"', "'")}", resource_metadata="https://localhost/.well-known/oauth-protected-resource/.well-known/mercure"`,
    )
  })

  it('refuses 1.0 tokens that fail a 1.0 check with 401 invalid_token, never falling back to 0.x', async () => {
    const bad = [
      await accessToken([grant(['publish'], { match: '*' })], {
        aud: 'https://other/.well-known/mercure',
      }),
      await accessToken([grant(['publish'], { match: '*' })], { iss: 'https://untrusted' }),
      await accessToken([grant(['publish'], { match: '*' })], { exp: undefined }),
      await accessToken([grant(['publish'], 'not an object' as never)]),
      await accessToken([
        { type: DETAIL, actions: ['publish'], topics: [{ match: 'a', match_type: 'regex' }] },
      ]),
    ]
    for (const token of bad) {
      const res = await publish([['topic', 'urn:a']], token)
      assert.equal(res.status, 401)
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/)
    }
    // A 0.x token on a 1.0 subscription.
    const legacy = await hub.token({ subscribe: ['*'] })
    const sub = await fetch(`${hub.hubUrl}?match=a`, {
      headers: { authorization: `Bearer ${legacy}` },
    })
    assert.equal(sub.status, 401)
    assert.match(await sub.text(), /needs an RFC 9068 access token/)
  })

  it('ignores a token in the URL of a 1.0 subscription, and refuses a 1.0 token there', async () => {
    const reader = await accessToken([grant(['subscribe'], { match: '*' })])
    const topic = `urn:private:${random()}`
    // Ignored: the subscriber counts as anonymous and gets no private update.
    const sub = await subscribeSse(`${hub.hubUrl}?match=${topic}&authorization=${reader}`)
    assert.equal(sub.status, 200)
    await publish([
      ['topic', topic],
      ['private', ''],
    ])
    await publish([['topic', topic]])
    await sub.waitForEvents(1)
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.equal(sub.events.length, 1)
    sub.close()
    // Refused where a URL token is read (0.x): a 1.0 token does not belong there.
    const legacy = await fetch(`${hub.hubUrl}?topic=a&authorization=${reader}`)
    assert.equal(legacy.status, 400)
    assert.match(legacy.headers.get('www-authenticate') ?? '', /error="invalid_request"/)
  })

  it('reads the access token from the 1.0 cookie', async () => {
    const reader = await accessToken([grant(['subscribe'], { match: '*' })])
    const topic = `urn:cookie:${random()}`
    const sub = await subscribeSse(`${hub.hubUrl}?match=${topic}`, {
      cookie: `__Secure-mercure_access_token=${reader}`,
    })
    await publish([
      ['topic', topic],
      ['private', 'on'],
    ])
    await sub.waitForEvents(1)
    sub.close()
  })

  it('subscribes with QUERY and a form body, the union of both, the query cursor first', async () => {
    const [a, b] = [`urn:q:${random()}`, `urn:q:${random()}`]
    const first = await hub.publishOk([['topic', a]])
    await publish([
      ['topic', a],
      ['id', `second-${random()}`],
    ])
    const third = await publish([['topic', b]])
    assert.equal(third.status, 200)
    const events: SseMessage[] = []
    const res = await new Promise<{ status: number; headers: Record<string, unknown> }>(
      (resolve, reject) => {
        const req = request(
          `${hub.hubUrl}?match=${a}&last_event_id=${encodeURIComponent(first)}`,
          {
            method: 'QUERY',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            agent: false,
          },
          (response) => {
            const parser = createParser({ onEvent: (event) => events.push(event) })
            response.on('data', (chunk: Buffer) => parser.feed(chunk))
            resolve({ status: response.statusCode ?? 0, headers: response.headers })
            setTimeout(() => req.destroy(), 300)
          },
        )
        req.on('error', reject)
        req.end(
          new URLSearchParams([
            ['match', b],
            ['last_event_id', 'earliest'],
          ]).toString(),
        )
      },
    )
    assert.equal(res.status, 200)
    assert.equal(res.headers['mercure-last-event-id'], first)
    await new Promise((resolve) => setTimeout(resolve, 400))
    // After the query's cursor (not the body's `earliest`): the second on a, then b's.
    assert.equal(events.length, 2)
  })

  it('answers 413 to a QUERY body past the body limit, and 415 to one that is no form', async () => {
    const send = (body: string, type: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(
          hub.hubUrl,
          { method: 'QUERY', headers: { 'content-type': type }, agent: false },
          (response) => {
            response.resume()
            resolve(response.statusCode ?? 0)
          },
        )
        req.on('error', reject)
        req.end(body)
      })
    // A QUERY body is read before the token: 64 KiB at most, far below a publish's 1 MiB.
    const form = 'application/x-www-form-urlencoded'
    const at = `match=${'a'.repeat(2000)}&`.repeat(33).slice(0, 65_536)
    assert.equal(at.length, 65_536)
    assert.equal(await send(at, form), 200)
    assert.equal(await send(`${at}x`, form), 413)
    assert.equal(await send(`match=${'a'.repeat(1_048_577)}`, form), 413)
    assert.equal(await send('{"match":"a"}', 'application/json'), 415)
    assert.equal(await send('match=%zz', 'application/x-www-form-urlencoded'), 400)
  })

  it('still speaks 0.x on the same hub: topic parameters, 0.x tokens, URI templates', async () => {
    const topic = `https://example.com/books/${random()}`
    const sub = await subscribeSse(
      `${hub.hubUrl}?topic=${encodeURIComponent('https://example.com/books/{id}')}`,
    )
    const legacy = await hub.token({ publish: ['*'] })
    const res = await publish([['topic', topic]], legacy)
    assert.equal(res.status, 200)
    await sub.waitForEvents(1)
    // A 0.x publisher may not forge the hub's 1.0 events.
    const forged = await publish(
      [
        ['topic', 'urn:a'],
        ['type', 'mercure'],
      ],
      legacy,
    )
    assert.equal(forged.status, 400)
    const reserved = await publish([['topic', '/.well-known/%6Dercure/subscriptions/x']], legacy)
    assert.equal(reserved.status, 403)
    sub.close()
  })

  it('applies a 1.0 token on a 0.x subscription, with every 1.0 check', async () => {
    const topic = `https://example.com/books/${random()}`
    const reader = await accessToken([
      grant(['subscribe'], { match: 'https://example.com/books/:id', match_type: 'urlpattern' }),
    ])
    const template = encodeURIComponent('https://example.com/books/{id}')
    const sub = await subscribeSse(`${hub.hubUrl}?topic=${template}`, {
      authorization: `Bearer ${reader}`,
    })
    assert.equal(sub.status, 200)
    await publish([
      ['topic', topic],
      ['private', 'on'],
    ])
    await sub.waitForEvents(1)
    sub.close()
    const expired = await accessToken([grant(['subscribe'], { match: '*' })], { exp: 1000 })
    const refused = await fetch(`${hub.hubUrl}?topic=${template}`, {
      headers: { authorization: `Bearer ${expired}` },
    })
    assert.equal(refused.status, 401)
  })

  it('signals a resume it cannot serve with a gap block, only to a subscriber that asks', async () => {
    const topic = `urn:gap:${random()}`
    const asked = await subscribeSse(`${hub.hubUrl}?match=${topic}&gap=1`, {
      'last-event-id': 'never-published',
    })
    const [gap] = await asked.waitForEvents(1)
    assert.equal(gap?.type, 'mercure')
    assert.deepEqual(JSON.parse(gap?.data ?? ''), { type: 'gap', last_event_id: 'never-published' })
    assert.ok((gap?.lastEventId ?? '') !== '')
    const plain = await subscribeSse(`${hub.hubUrl}?match=${topic}`, {
      'last-event-id': 'never-published',
    })
    assert.equal(plain.headers['mercure-last-event-id'], 'earliest')
    await publish([['topic', topic]])
    const [update] = await plain.waitForEvents(1)
    assert.equal(update?.type, 'message')
    asked.close()
    plain.close()
  })
})

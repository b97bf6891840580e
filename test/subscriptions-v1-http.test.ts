import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { SignJWT } from 'jose'
import { startTestHub, TEST_SECRET, type TestHub } from './helpers/hub-server.ts'
import { subscribeSse } from './helpers/sse-events.ts'

// Mercure 1.0 subscription events and API over HTTP, beside a 0.x watcher on the same hub.

const ISSUER = 'https://localhost'
const RESOURCE = 'https://localhost/.well-known/mercure'
const DETAIL = 'https://mercure.rocks/authorization-detail'
const PATH = '/.well-known/mercure/subscriptions'
const WATCH = `${PATH}/:match_type/:match/:subscriber`

/** An RFC 9068 access token granting `subscribe` on each matcher, HS256 with the test secret. */
function accessToken(
  ...details: Array<{ topics: Array<{ match: string; match_type?: string }>; payload?: unknown }>
): Promise<string> {
  return new SignJWT({
    aud: RESOURCE,
    iss: ISSUER,
    exp: 4102444800,
    authorization_details: details.map((d) => ({ type: DETAIL, actions: ['subscribe'], ...d })),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .sign(new TextEncoder().encode(TEST_SECRET))
}

describe('1.0 subscription events and API over HTTP', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub({
      trustedIssuers: [{ issuer: ISSUER }],
      resourceIdentifier: RESOURCE,
      subscriptions: true,
    })
  })
  after(() => hub.close())

  it('sends a 1.0 watcher `event: mercure` JSON and a 0.x watcher JSON-LD for one subscription', async () => {
    const watcherToken = await accessToken({ topics: [{ match: WATCH, match_type: 'urlpattern' }] })
    const v1 = await subscribeSse(`${hub.hubUrl}?match_urlpattern=${encodeURIComponent(WATCH)}`, {
      authorization: `Bearer ${watcherToken}`,
    })
    assert.equal(v1.status, 200)
    const legacy = await hub.token({ subscribe: [`${PATH}{/topic}{/subscriber}`] })
    const old = await subscribeSse(
      `${hub.hubUrl}?topic=${encodeURIComponent(`${PATH}{/topic}{/subscriber}`)}`,
      { authorization: `Bearer ${legacy}` },
    )
    const memberToken = await accessToken({
      topics: [{ match: '*' }],
      payload: { name: 'Ada' },
    })
    const member = await subscribeSse(
      `${hub.hubUrl}?match=${encodeURIComponent('urn:room:1 é%')}&match_urlpattern=${encodeURIComponent('/books/:id')}`,
      { authorization: `Bearer ${memberToken}` },
    )
    assert.equal(member.status, 200)
    await v1.waitForEvents(3)
    const events = v1.events
      .map((e) => ({ type: e.type, json: JSON.parse(e.data) }))
      .filter((e) => e.json.match !== WATCH)
    assert.deepEqual(
      events.map((e) => [e.type, e.json.match_type, e.json.match, e.json.payload]),
      [
        ['mercure', 'exact', 'urn:room:1 é%', { name: 'Ada' }],
        ['mercure', 'urlpattern', '/books/:id', { name: 'Ada' }],
      ],
    )
    for (const { json } of events) {
      assert.equal(json.id.startsWith(`${PATH}/${json.match_type}/`), true)
      assert.equal(json.type, 'subscription')
    }
    await old.waitForEvents(3)
    const shapes = old.events
      .map((e) => JSON.parse(e.data))
      .filter((d) => d.subscriber === events[0]?.json.subscriber)
    assert.deepEqual(
      shapes.map((d) => [d['@context'], d.type, d.topic]),
      [
        ['https://mercure.rocks/', 'Subscription', 'urn:room:1 é%'],
        ['https://mercure.rocks/', 'Subscription', '/books/:id'],
      ],
    )
    assert.ok(old.events.every((e) => e.type === 'message'))

    // The API, with a 1.0 token granting the event topics: a single subscription is its event.
    const one = events[0]?.json
    const res = await fetch(`${hub.base}${one.id}`, {
      headers: { authorization: `Bearer ${watcherToken}` },
    })
    assert.equal(res.status, 200)
    assert.equal(res.headers.get('content-type'), 'application/json')
    assert.match(
      res.headers.get('link') ?? '',
      /^<\/\.well-known\/mercure>; rel="mercure"; last-event-id="[^"]*"; type="mercure"; content-type="application\/json"$/,
    )
    assert.deepEqual(await res.json(), one)
    const list = await fetch(`${hub.base}${PATH}`, {
      headers: { authorization: `Bearer ${watcherToken}` },
    })
    assert.equal(list.status, 403, 'the collection path is not granted by the watcher pattern')
    member.close()
    v1.close()
    old.close()
  })
})

import assert from 'node:assert/strict'
import { connect } from 'node:http2'
import { after, before, describe, it } from 'node:test'
import { decodeJwt, decodeProtectedHeader } from 'jose'
import {
  presenceListPath,
  presencePattern,
  presenceSelector,
  roomTopic,
} from '../src/apps/chat-rooms.ts'
import { mintAccessToken } from '../src/hub/mint-token.ts'
import { startTestHub, TEST_SECRET, type TestHub } from './helpers/hub-server.ts'
import { subscribeSse } from './helpers/sse-events.ts'
import { selfSignedCertificate } from './helpers/tls.ts'

/** What the CLI's hub trusts by default: the issuer `ssehub`, with the hub's own keys. */
const SSEHUB_ISSUER = [{ issuer: 'ssehub' }]

/** The chat API's helpers on one test hub: post to it, and join as a browser would. */
function chatOn(hub: () => TestHub) {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${hub().base}/apps/chat/api/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: hub().base, ...headers },
      body: JSON.stringify(body),
    })

  /** Joins and returns the Cookie header a browser would send afterwards, and the hub token. */
  const join = async (nickname: string, room: string, cookie = '') => {
    const res = await post('join', { nickname, room }, cookie ? { cookie } : {})
    assert.equal(res.status, 200, await res.clone().text())
    const set = res.headers.getSetCookie()
    assert.equal(set.length, 2)
    for (const line of set) assert.match(line, /HttpOnly; SameSite=Strict; Max-Age=3600/)
    const hubCookie = set.find((line) => line.includes('Path=/.well-known/mercure'))
    assert.ok(hubCookie)
    const [name, token] = (hubCookie.split(';', 1)[0] as string).split('=') as [string, string]
    return {
      body: await res.json(),
      cookie: set.map((line) => line.split(';', 1)[0]).join('; '),
      cookieName: name,
      token,
    }
  }
  return { post, join }
}

describe('the chat API (Mercure 1.0, the default)', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub(
      { subscriptions: true, anonymous: false, trustedIssuers: SSEHUB_ISSUER },
      { chat: { signingKey: TEST_SECRET } },
    )
  })
  after(() => hub.close())
  const { post, join } = chatOn(() => hub)
  const subscribe = (params: Array<[string, string]>, headers: Record<string, string>) =>
    subscribeSse(`${hub.hubUrl}?${new URLSearchParams(params)}`, headers)

  it('sets a 1.0 access token for the rooms and their presence, over http as mercureAuthorization', async () => {
    const ada = await join('Ada', 'lobby')
    assert.equal(ada.cookieName, 'mercureAuthorization')
    assert.equal(ada.body.protocol, '1.0')
    assert.deepEqual(ada.body.subscribe, {
      match: [roomTopic('lobby')],
      matchUrlPattern: [presencePattern('lobby')],
    })
    assert.equal(ada.body.presenceList, presenceListPath('lobby'))
    assert.equal(
      presencePattern('lobby'),
      '/.well-known/mercure/subscriptions/exact/urn%3Assehub%3Achat%3Alobby/:subscriber',
    )
    assert.equal(decodeProtectedHeader(ada.token).typ, 'at+jwt')
    const claims = decodeJwt(ada.token)
    assert.equal(claims.iss, 'ssehub')
    assert.equal(claims.aud, hub.hubUrl)
    assert.ok(typeof claims.exp === 'number')
    assert.equal(claims['mercure'], undefined)
    assert.deepEqual(claims['authorization_details'], [
      {
        type: 'https://mercure.rocks/authorization-detail',
        actions: ['subscribe'],
        topics: [
          { match: roomTopic('lobby') },
          { match: presencePattern('lobby'), match_type: 'urlpattern' },
          { match: presenceListPath('lobby') },
        ],
        payload: { nickname: 'Ada', rooms: ['lobby'] },
      },
    ])
  })

  it('lets a member join, receive the room privately with match and post, keeping the text exactly', async () => {
    const ada = await join('Ada', 'lobby')
    const stream = await subscribe([['match', roomTopic('lobby')]], { cookie: ada.cookie })
    assert.equal(stream.status, 200)
    const text = '<img src=x onerror=alert(1)>  two  spaces\nnew line'
    const res = await post('messages', { room: 'lobby', text }, { cookie: ada.cookie })
    assert.equal(res.status, 200)
    const [event] = await stream.waitForEvents(1)
    const message = JSON.parse(event?.data ?? '{}')
    assert.equal(message.nickname, 'Ada')
    assert.equal(message.text, text)
    stream.close()
  })

  it('publishes private updates: a subscriber without the membership gets none', async () => {
    const outsider = await mintAccessToken({
      key: TEST_SECRET,
      issuer: 'ssehub',
      audience: hub.hubUrl,
      subscribe: [{ match: roomTopic('other') }],
    })
    const stream = await subscribe([['match', roomTopic('lobby')]], {
      authorization: `Bearer ${outsider}`,
    })
    assert.equal(stream.status, 200)
    const ada = await join('Ada', 'lobby')
    await post('messages', { room: 'lobby', text: 'members only' }, { cookie: ada.cookie })
    const marker = await hub.publishOk({ topic: roomTopic('lobby'), data: 'public marker' })
    await stream.waitForEvents(1)
    assert.deepEqual(
      stream.events.map((e) => e.lastEventId),
      [marker],
    )
    stream.close()
  })

  it("tells members who joins their room with event: mercure, and lists who is there, never another room's", async () => {
    const ada = await join('Ada', 'presence')
    const watch = await subscribe(
      [
        ['match', roomTopic('presence')],
        ['match_urlpattern', '/.well-known/mercure/subscriptions/:match_type/:match/:subscriber'],
      ],
      { cookie: ada.cookie },
    )
    assert.equal(watch.status, 200)
    const grace = await join('Grace', 'presence')
    const graceStream = await subscribe([['match', roomTopic('presence')]], {
      cookie: grace.cookie,
    })
    const mallory = await join('Mallory', 'elsewhere')
    const malloryStream = await subscribe([['match', roomTopic('elsewhere')]], {
      cookie: mallory.cookie,
    })
    const events = await watch.waitForEvents(1)
    await new Promise((resolve) => setTimeout(resolve, 200))
    const documents = events.map((event) => {
      assert.equal(event.type, 'mercure')
      return JSON.parse(event.data)
    })
    const joined = documents.find((doc) => doc.payload?.nickname === 'Grace')
    assert.ok(joined, JSON.stringify(documents))
    assert.equal(joined.type, 'subscription')
    assert.equal(joined.match, roomTopic('presence'))
    assert.equal(joined.match_type, 'exact')
    assert.equal(joined.active, true)
    assert.deepEqual(joined.payload, { nickname: 'Grace', rooms: ['presence'] })
    assert.ok(!documents.some((doc) => doc.payload?.nickname === 'Mallory'))

    const list = await fetch(`${hub.base}${ada.body.presenceList}`, {
      headers: { cookie: ada.cookie },
    })
    assert.equal(list.status, 200, await list.clone().text())
    const names = (await list.json()).subscriptions.map(
      (s: { payload?: { nickname?: string } }) => s.payload?.nickname,
    )
    assert.ok(names.includes('Grace'), JSON.stringify(names))
    const other = await fetch(`${hub.base}${presenceListPath('elsewhere')}`, {
      headers: { cookie: ada.cookie },
    })
    assert.equal(other.status, 403)
    for (const stream of [watch, graceStream, malloryStream]) stream.close()
  })

  it('keeps the rooms joined under one nickname, and grants each', async () => {
    const first = await join('Grace', 'lobby')
    const second = await join('Grace', 'dev', first.cookie)
    assert.deepEqual(second.body.rooms, ['lobby', 'dev'])
    const topics = (
      decodeJwt(second.token)['authorization_details'] as Array<{ topics: unknown[] }>
    )[0]?.topics
    assert.equal(topics?.length, 6)
  })

  it('refuses posting without a session, to a room not joined, and cross-origin', async () => {
    assert.equal((await post('messages', { room: 'lobby', text: 'x' })).status, 401)
    const ada = await join('Ada', 'lobby')
    assert.equal(
      (await post('messages', { room: 'dev', text: 'x' }, { cookie: ada.cookie })).status,
      403,
    )
    const evil = await post(
      'messages',
      { room: 'lobby', text: 'x' },
      { cookie: ada.cookie, origin: 'https://evil.example' },
    )
    assert.equal(evil.status, 403)
    assert.match(await evil.text(), /CSRF/)
  })

  it('says what is wrong with a nickname, a room or a message', async () => {
    const cases: Array<[string, unknown, RegExp]> = [
      ['join', { nickname: '', room: 'lobby' }, /Choose a nickname/],
      ['join', { nickname: 'x'.repeat(33), room: 'lobby' }, /at most 32/],
      ['join', { nickname: 'Ada', room: 'Lobby!' }, /room name/],
    ]
    for (const [path, body, message] of cases) {
      const res = await post(path, body)
      assert.equal(res.status, 400)
      assert.match(await res.text(), message)
    }
    const ada = await join('Ada', 'lobby')
    const empty = await post('messages', { room: 'lobby', text: '   ' }, { cookie: ada.cookie })
    assert.equal(empty.status, 400)
  })
})

describe('the chat API with a pinned resource identifier', () => {
  let hub: TestHub
  const pinned = 'https://chat.example/.well-known/mercure'
  before(async () => {
    hub = await startTestHub(
      {
        subscriptions: true,
        anonymous: false,
        resourceIdentifier: pinned,
        trustedIssuers: SSEHUB_ISSUER,
      },
      { chat: { signingKey: TEST_SECRET } },
    )
  })
  after(() => hub.close())
  const { join } = chatOn(() => hub)

  it('mints tokens for that audience, whatever host the page came through', async () => {
    const ada = await join('Ada', 'lobby')
    assert.equal(decodeJwt(ada.token).aud, pinned)
  })
})

describe('the chat API over HTTPS', () => {
  const tls = selfSignedCertificate()
  let hub: TestHub
  before(async () => {
    hub = await startTestHub(
      { subscriptions: true, anonymous: false, trustedIssuers: SSEHUB_ISSUER },
      { chat: { signingKey: TEST_SECRET }, tls },
    )
  })
  after(async () => {
    await hub.close()
    tls.cleanup()
  })

  it('sets the token as __Secure-mercure_access_token, which the hub reads by default', async () => {
    const session = connect(hub.base, { rejectUnauthorized: false })
    const request = (headers: Record<string, string>, body?: string) =>
      new Promise<{ headers: Record<string, unknown> }>((resolve, reject) => {
        const stream = session.request(headers)
        stream.on('error', reject)
        stream.on('response', (response) => {
          resolve({ headers: response })
          stream.close()
        })
        stream.end(body)
      })
    try {
      const joined = await request(
        {
          ':method': 'POST',
          ':path': '/apps/chat/api/join',
          origin: hub.base,
          'content-type': 'application/json',
        },
        JSON.stringify({ nickname: 'Ada', room: 'lobby' }),
      )
      assert.equal(joined.headers[':status'], 200)
      const set = joined.headers['set-cookie'] as string[]
      const hubCookie = set.find((line) => line.includes('Path=/.well-known/mercure')) ?? ''
      assert.match(hubCookie, /^__Secure-mercure_access_token=[^;]+;.*; Secure$/)
      const token = (hubCookie.split(';', 1)[0] as string).split('=')[1] as string
      assert.equal(decodeJwt(token).aud, hub.hubUrl)
      const stream = await request({
        ':path': `/.well-known/mercure?match=${encodeURIComponent(roomTopic('lobby'))}`,
        accept: 'text/event-stream',
        cookie: hubCookie.split(';', 1)[0] as string,
      })
      assert.equal(stream.headers[':status'], 200)
    } finally {
      session.destroy()
    }
  })
})

describe('the chat API in Mercure 0.x', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub(
      { subscriptions: true, anonymous: false, trustedIssuers: SSEHUB_ISSUER },
      { chat: { signingKey: TEST_SECRET, protocol: '0.x' } },
    )
  })
  after(() => hub.close())
  const { post, join } = chatOn(() => hub)

  it('sets a 0.x token with the mercure claim, and the page subscribes with topic', async () => {
    const ada = await join('Ada', 'lobby')
    assert.equal(ada.cookieName, 'mercureAuthorization')
    assert.equal(ada.body.protocol, '0.x')
    assert.deepEqual(ada.body.subscribe, {
      topics: [roomTopic('lobby'), presenceSelector('lobby')],
    })
    assert.deepEqual(decodeJwt(ada.token)['mercure'], {
      subscribe: [roomTopic('lobby'), presenceSelector('lobby')],
      payload: { nickname: 'Ada', rooms: ['lobby'] },
    })
    const stream = await subscribeSse(
      `${hub.hubUrl}?topic=${encodeURIComponent(roomTopic('lobby'))}`,
      { cookie: ada.cookie },
    )
    assert.equal(stream.status, 200)
    assert.equal(
      (await post('messages', { room: 'lobby', text: 'hi' }, { cookie: ada.cookie })).status,
      200,
    )
    const [event] = await stream.waitForEvents(1)
    assert.equal(JSON.parse(event?.data ?? '{}').text, 'hi')
    stream.close()
    const list = await fetch(`${hub.base}${ada.body.presenceList}`, {
      headers: { cookie: ada.cookie },
    })
    assert.equal(list.status, 200)
  })
})

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { presenceSelector, roomTopic } from '../src/apps/chat-rooms.ts'
import { startTestHub, TEST_SECRET, type TestHub } from './helpers/hub-server.ts'
import { subscribeSse } from './helpers/sse-events.ts'

describe('the chat API', () => {
  let hub: TestHub
  before(async () => {
    hub = await startTestHub(
      { subscriptions: true, anonymous: false },
      { chat: { signingKey: TEST_SECRET } },
    )
  })
  after(() => hub.close())

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${hub.base}/apps/chat/api/${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: hub.base, ...headers },
      body: JSON.stringify(body),
    })

  /** Joins and returns the Cookie header a browser would send afterwards. */
  const join = async (nickname: string, room: string, cookie = '') => {
    const res = await post('join', { nickname, room }, cookie ? { cookie } : {})
    assert.equal(res.status, 200, await res.clone().text())
    const set = res.headers.getSetCookie()
    assert.equal(set.length, 2)
    for (const line of set) assert.match(line, /HttpOnly; SameSite=Strict; Max-Age=3600/)
    assert.ok(set.some((line) => line.includes('Path=/.well-known/mercure')))
    return { body: await res.json(), cookie: set.map((line) => line.split(';', 1)[0]).join('; ') }
  }

  it('lets a member join, receive the room privately and post, and keeps the text exactly', async () => {
    const ada = await join('Ada', 'lobby')
    assert.equal(ada.body.topic, roomTopic('lobby'))
    const stream = await subscribeSse(
      `${hub.hubUrl}?topic=${encodeURIComponent(roomTopic('lobby'))}`,
      { cookie: ada.cookie },
    )
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
    const outsider = await hub.token({ subscribe: [roomTopic('other')] })
    const stream = await subscribeSse(
      `${hub.hubUrl}?topic=${encodeURIComponent(roomTopic('lobby'))}`,
      {
        authorization: `Bearer ${outsider}`,
      },
    )
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

  it('keeps the rooms joined under one nickname, and grants presence for each', async () => {
    const first = await join('Grace', 'lobby')
    const second = await join('Grace', 'dev', first.cookie)
    assert.deepEqual(second.body.rooms, ['lobby', 'dev'])
    assert.equal(second.body.presence, presenceSelector('dev'))
    const list = await fetch(
      `${hub.base}/.well-known/mercure/subscriptions/${encodeURIComponent(roomTopic('dev'))}`,
      {
        headers: { cookie: second.cookie },
      },
    )
    assert.equal(list.status, 200)
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

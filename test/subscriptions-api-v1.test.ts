import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type EventSink, EventStream } from '../src/core/event-stream.ts'
import { createParser, type SseMessage } from '../src/core/parse.ts'
import type { HubAnswer } from '../src/http/hub-answer.ts'
import { subscriptionsAnswer } from '../src/http/subscriptions-api.ts'
import { AuthError } from '../src/hub/auth-error.ts'
import { createHub, type Hub } from '../src/hub/hub.ts'
import type { MercureClaims } from '../src/hub/jwt-verifier.ts'
import { type Matcher, matcherSelector } from '../src/hub/mercure-matcher.ts'
import { createSelectorMatcher } from '../src/hub/topic-selector.ts'
import { createMemoryStore } from '../src/storage/memory.ts'

const HUB = 'https://hub.example/.well-known/mercure'
const PATH = '/.well-known/mercure/subscriptions'
const selector = (matcher: Matcher) => matcherSelector(matcher, HUB)
const API = selector({ type: 'urlpattern', match: `${PATH}{/*}?` })
const WATCH = selector({ type: 'urlpattern', match: `${PATH}/:match_type/:match/:subscriber` })
const LINK = (id: string) =>
  `</.well-known/mercure>; rel="mercure"; last-event-id="${id}"; type="mercure"; content-type="application/json"`

const claimsV1 = (subscribe: string[]): MercureClaims => ({
  publish: undefined,
  subscribe,
  payload: undefined,
  exp: undefined,
  protocol: '1.0',
})

/** A hub with a watcher (1.0), a 1.0 subscriber and a 0.x one, and a way to call the API. */
async function setUp() {
  const matcher = createSelectorMatcher()
  const hub = createHub({
    store: createMemoryStore(),
    matcher,
    maxLifetimeMs: null,
    subscriptionEvents: true,
  })
  const connect = async (request: Parameters<Hub['subscribe']>[0]['selectors'], init: object) => {
    const events: SseMessage[] = []
    const parser = createParser({ onEvent: (message) => events.push(message) })
    const sink: EventSink = {
      write: (chunks) => {
        for (const chunk of chunks) parser.feed(chunk)
        return true
      },
      end() {},
      destroy() {},
    }
    const subscriber = await hub.subscribe({
      selectors: request,
      claims: null,
      lastEventId: undefined,
      open: () => new EventStream(sink),
      ...init,
    })
    return { subscriber, events }
  }
  const watcher = await connect([WATCH], { protocol: '1.0', claims: { subscribe: [WATCH] } })
  const odd = 'https://example.com/a b/%41?q=1:é'
  const member = await connect(
    [
      selector({ type: 'exact', match: 'https://example.com/{id}' }),
      selector({ type: 'urlpattern', match: '/books/:id' }),
      selector({ type: 'exact', match: odd }),
    ],
    {
      protocol: '1.0',
      claims: {
        subscribe: [],
        subscribePayloads: [{ selectors: ['*'], payload: { name: 'Ada' } }],
      },
    },
  )
  const old = await connect(['urn:room:1', 'https://example.com/rooms/{id}'], {})
  const call = (
    path: string,
    claims: MercureClaims | null,
    headers: Record<string, string> = {},
  ): Promise<HubAnswer | null> =>
    subscriptionsAnswer(
      { method: 'GET', url: new URL(path, 'https://hub.example'), headers },
      { hub, matches: matcher.matches, claims, headers: {} },
    )
  return { hub, watcher, member, old, odd, call }
}

const json = (answer: HubAnswer | null) => JSON.parse(answer?.body ?? 'null')

describe('the 1.0 subscriptions API', () => {
  it('lists every subscription with a 1.0 form as plain JSON, with the cursor in Link', async () => {
    const { hub, member, old, call } = await setUp()
    const answer = await call(PATH, claimsV1([API]))
    assert.equal(answer?.status, 200)
    assert.equal(answer?.headers['content-type'], 'application/json')
    assert.equal(answer?.headers['link'], LINK('earliest'))
    assert.equal(answer?.headers['etag'], '"earliest"')
    const list = json(answer)
    assert.deepEqual(Object.keys(list), ['id', 'type', 'subscriptions'])
    assert.equal(list.id, PATH)
    assert.equal(list.type, 'subscriptions')
    type Entry = { subscriber: string; match_type: string; match: string; payload?: unknown }
    const who = (id: string) =>
      id === member.subscriber.id ? 'member' : id === old.subscriber.id ? 'old' : 'watcher'
    const entries = list.subscriptions.map((s: Entry) => [
      who(s.subscriber),
      s.match_type,
      s.match,
      s.payload,
    ])
    assert.deepEqual(entries, [
      ['watcher', 'urlpattern', `${PATH}/:match_type/:match/:subscriber`, undefined],
      ['member', 'exact', 'https://example.com/{id}', { name: 'Ada' }],
      ['member', 'urlpattern', '/books/:id', { name: 'Ada' }],
      ['member', 'exact', 'https://example.com/a b/%41?q=1:é', { name: 'Ada' }],
      ['old', 'exact', 'urn:room:1', undefined],
    ])
    hub.close()
  })

  it('answers a single subscription with exactly its event document', async () => {
    const { hub, watcher, member, odd, call } = await setUp()
    const mine = () =>
      watcher.events
        .map((e) => JSON.parse(e.data))
        .filter((d) => d.subscriber === member.subscriber.id)
    while (mine().length < 3) await new Promise((resolve) => setTimeout(resolve, 5))
    for (const document of mine()) {
      // The event's topic is the API path of the subscription, each variable encoded once.
      const answer = await call(document.id, claimsV1([API]))
      assert.equal(answer?.status, 200, document.id)
      assert.deepEqual(json(answer), document)
    }
    const oddOne = mine().find((d) => d.match === odd)
    assert.equal(
      oddOne?.id,
      `${PATH}/exact/https%3A%2F%2Fexample.com%2Fa%20b%2F%2541%3Fq%3D1%3A%C3%A9/${encodeURIComponent(member.subscriber.id)}`,
    )
    const byMatch = json(
      await call(`${PATH}/urlpattern/${encodeURIComponent('/books/:id')}`, claimsV1([API])),
    )
    assert.equal(byMatch.id, `${PATH}/urlpattern/%2Fbooks%2F%3Aid`)
    assert.deepEqual(
      byMatch.subscriptions.map((s: { match: string }) => s.match),
      ['/books/:id'],
    )
    hub.close()
  })

  it('answers 404 for an unknown subscription or path, 400 for a bad type or encoding', async () => {
    const { hub, call } = await setUp()
    const claims = claimsV1([API])
    const status = async (path: string) => (await call(path, claims))?.status
    assert.equal(await status(`${PATH}/exact/urn%3Aroom%3A1/urn%3Auuid%3Anope`), 404)
    assert.equal(await status(`${PATH}/exact`), 404)
    assert.equal(await status(`${PATH}/exact/a/b/c`), 404)
    assert.equal(await status(`${PATH}/uritemplate/x`), 400)
    assert.equal(await status(`${PATH}/Exact/x`), 400)
    assert.equal(await status(`${PATH}/exact/%E0%A4%A`), 400)
    assert.equal(await status(`${PATH}/exact/urn%3Aroom%3A1`), 200)
    hub.close()
  })

  it('refuses a path no subscribe matcher of the token grants: 403 insufficient_scope', async () => {
    const { hub, call } = await setUp()
    const narrow = claimsV1([selector({ type: 'urlpattern', match: `${PATH}/exact/*` })])
    assert.equal((await call(`${PATH}/exact/urn%3Aroom%3A1`, narrow))?.status, 200)
    await assert.rejects(
      call(PATH, narrow),
      (error) => AuthError.is(error) && error.code === 'insufficient-scope',
    )
    await assert.rejects(
      call(`${PATH}/urlpattern/x`, narrow),
      (error) => AuthError.is(error) && error.status === 403,
    )
    hub.close()
  })

  it('names the last dispatched event in Link and ETag, escaped, and answers 304 to it', async () => {
    const { hub, call } = await setUp()
    await hub.publish({ id: 'urn:a "quoted" \\ id', topics: ['urn:t'], data: '', private: false })
    const answer = await call(PATH, claimsV1([API]))
    assert.equal(answer?.headers['link'], LINK('urn:a \\"quoted\\" \\\\ id'))
    const etag = answer?.headers['etag'] ?? ''
    assert.equal(etag, '"urn:a%20%22quoted%22%20\\%20id"')
    const cached = await call(PATH, claimsV1([API]), { 'if-none-match': etag })
    assert.equal(cached?.status, 304)
    assert.equal(cached?.body, null)
    assert.equal(cached?.headers['link'], answer?.headers['link'])
    const stale = await call(PATH, claimsV1([API]), { 'if-none-match': '"earliest"' })
    assert.equal(stale?.status, 200)
    hub.close()
  })

  it('leaves 0.x tokens the JSON-LD API, showing a 1.0 subscription by its matcher value', async () => {
    const { hub, member, call } = await setUp()
    const claims: MercureClaims = {
      publish: undefined,
      subscribe: [`${PATH}{/topic}{/subscriber}`],
      payload: undefined,
      exp: undefined,
    }
    const answer = await call(PATH, claims)
    assert.equal(answer?.headers['content-type'], 'application/ld+json')
    const list = json(answer)
    assert.equal(list.type, 'Subscriptions')
    const topics = list.subscriptions
      .filter((s: { subscriber: string }) => s.subscriber === member.subscriber.id)
      .map((s: { topic: string }) => s.topic)
    assert.deepEqual(topics, [
      'https://example.com/{id}',
      '/books/:id',
      'https://example.com/a b/%41?q=1:é',
    ])
    const one = await call(
      `${PATH}/${encodeURIComponent('/books/:id')}/${encodeURIComponent(member.subscriber.id)}`,
      claims,
    )
    assert.equal(one?.status, 200)
    assert.deepEqual(json(one).payload, { name: 'Ada' })
    hub.close()
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type EventSink, EventStream } from '../src/core/event-stream.ts'
import { createParser, type SseMessage } from '../src/core/parse.ts'
import { createHub, type Hub, type HubOptions, type SubscribeRequest } from '../src/hub/hub.ts'
import { type Matcher, matcherSelector } from '../src/hub/mercure-matcher.ts'
import type { SubscriptionEventDropReason } from '../src/hub/subscription-announcer.ts'
import type { SubscriptionEventRelay } from '../src/hub/subscription-event-relay.ts'
import { subscriptionTopic } from '../src/hub/subscription-events.ts'
import { subscriptionTopicV1 } from '../src/hub/subscription-events-v1.ts'
import type { Update } from '../src/hub/update.ts'
import { createMemoryStore } from '../src/storage/memory.ts'
import { eventually } from './helpers/raw-sse.ts'

const HUB = 'https://hub.example/.well-known/mercure'
const PATH = '/.well-known/mercure/subscriptions'
const selector = (matcher: Matcher) => matcherSelector(matcher, HUB)
/** What a 1.0 watcher subscribes to (and is granted): every subscription's event. */
const WATCH_V1 = selector({
  type: 'urlpattern',
  match: '/.well-known/mercure/subscriptions/:match_type/:match/:subscriber',
})
/** What a 0.x watcher subscribes to (and is granted). */
const WATCH_0X = `${PATH}{/topic}{/subscriber}`

/** A subscriber connection whose events are parsed as they are written. */
interface Connection {
  readonly id: string
  readonly events: SseMessage[]
  close(): void
}

async function connect(
  hub: Hub,
  request: Omit<SubscribeRequest, 'open' | 'lastEventId'>,
): Promise<Connection> {
  const events: SseMessage[] = []
  const parser = createParser({ onEvent: (message) => events.push(message) })
  const sink: EventSink = {
    write(chunks) {
      for (const chunk of chunks) parser.feed(chunk)
      return true
    },
    end() {},
    destroy() {},
  }
  const subscriber = await hub.subscribe({
    ...request,
    lastEventId: undefined,
    open: () => new EventStream(sink),
  })
  return { id: subscriber.id, events, close: () => subscriber.stream.close('client-closed') }
}

function startHub(options: Partial<HubOptions> = {}): Hub {
  return createHub({
    store: createMemoryStore(),
    maxLifetimeMs: null,
    subscriptionEvents: true,
    ...options,
  })
}

const watchV1 = (hub: Hub) =>
  connect(hub, { protocol: '1.0', selectors: [WATCH_V1], claims: { subscribe: [WATCH_V1] } })
const watch0x = (hub: Hub) =>
  connect(hub, { selectors: [WATCH_0X], claims: { subscribe: [WATCH_0X] } })
const about = (events: SseMessage[], subscriber: string) =>
  events
    .map((e) => ({ ...e, json: JSON.parse(e.data) }))
    .filter((e) => e.json.subscriber === subscriber)

/** A 1.0 subscriber with an exact matcher holding `{`, a URL pattern and `*`, and its payloads. */
const member = {
  protocol: '1.0' as const,
  selectors: [
    selector({ type: 'exact', match: 'https://example.com/{id}' }),
    selector({ type: 'urlpattern', match: 'https://example.com/books/:id' }),
    '*',
  ],
  claims: {
    subscribe: [selector({ type: 'urlpattern', match: 'https://example.com/*' })],
    subscribePayloads: [
      { selectors: [selector({ type: 'exact', match: 'https://example.com/{id}' })], payload: 1 },
      { selectors: ['https://example.com/books/:id'], payload: undefined },
      { selectors: ['*'], payload: { role: 'reader' } },
    ],
  },
}

describe('1.0 subscription events', () => {
  it('announce each matcher of a 1.0 subscriber to a 1.0 watcher, as `mercure` JSON', async () => {
    const hub = startHub()
    const watcher = await watchV1(hub)
    const subscriber = await connect(hub, member)
    await eventually(() => about(watcher.events, subscriber.id).length === 3, 'three events')
    const joined = about(watcher.events, subscriber.id)
    for (const event of joined) {
      assert.equal(event.type, 'mercure')
      assert.match(event.lastEventId, /^#[0-9a-f-]{36}(?:\/.*)?$/)
      assert.equal(event.json.type, 'subscription')
      assert.equal(event.json.active, true)
      assert.equal(event.json['@context'], undefined)
      assert.equal(
        event.json.id,
        subscriptionTopicV1(
          { type: event.json.match_type, match: event.json.match },
          subscriber.id,
        ),
        'id is the relative topic',
      )
    }
    assert.deepEqual(
      joined.map(({ json: { match, match_type, payload } }) => ({ match, match_type, payload })),
      [
        { match: 'https://example.com/{id}', match_type: 'exact', payload: 1 },
        { match: 'https://example.com/books/:id', match_type: 'urlpattern', payload: undefined },
        { match: '*', match_type: 'exact', payload: { role: 'reader' } },
      ],
    )
    assert.equal(new Set(joined.map((e) => e.lastEventId)).size, 3, 'each event its own id')

    subscriber.close()
    await eventually(() => about(watcher.events, subscriber.id).length === 6, 'three more')
    const left = about(watcher.events, subscriber.id).slice(3)
    assert.deepEqual(
      left.map((e) => [e.json.match, e.json.active]),
      [
        ['https://example.com/{id}', false],
        ['https://example.com/books/:id', false],
        ['*', false],
      ],
    )
    hub.close()
  })

  it('announce the same subscriptions to a 0.x watcher in the JSON-LD shape', async () => {
    const hub = startHub()
    const watcher = await watch0x(hub)
    const subscriber = await connect(hub, member)
    await eventually(() => about(watcher.events, subscriber.id).length === 3, 'three events')
    const joined = about(watcher.events, subscriber.id)
    for (const event of joined) {
      assert.equal(event.type, 'message')
      assert.equal(event.json['@context'], 'https://mercure.rocks/')
      assert.equal(event.json.type, 'Subscription')
      assert.equal(event.json.id, subscriptionTopic(event.json.topic, subscriber.id))
      assert.equal(event.json.match_type, undefined)
    }
    assert.deepEqual(
      joined.map((e) => e.json.topic),
      ['https://example.com/{id}', 'https://example.com/books/:id', '*'],
    )
    hub.close()
  })

  it('send each listener one event per change, in its own shape, and skip a template for 1.0', async () => {
    const hub = startHub()
    const starV1 = await connect(hub, {
      protocol: '1.0',
      selectors: ['*'],
      claims: { subscribe: ['*'] },
    })
    const star0x = await connect(hub, { selectors: ['*'], claims: { subscribe: ['*'] } })
    const old = await connect(hub, {
      selectors: ['urn:room:1', 'https://example.com/{id}'],
      claims: null,
    })
    await eventually(() => about(star0x.events, old.id).length === 2, 'two 0.x events')
    await eventually(() => about(starV1.events, old.id).length === 1, 'one 1.0 event')
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.deepEqual(
      about(starV1.events, old.id).map((e) => [e.type, e.json.match_type, e.json.match]),
      [['mercure', 'exact', 'urn:room:1']],
      'a 0.x selector is exact; a URI Template has no 1.0 form',
    )
    assert.ok(
      starV1.events.every((e) => e.type === 'mercure'),
      'no JSON-LD for a 1.0 listener',
    )
    assert.ok(
      star0x.events.every((e) => e.type === 'message'),
      'no `mercure` event for 0.x',
    )
    assert.equal(about(starV1.events, star0x.id).length, 1, "the 0.x listener's `*`, once")
    hub.close()
  })

  it('encode a match holding %, /, :, ?, spaces and non-ASCII exactly once', async () => {
    const hub = startHub()
    const watcher = await watchV1(hub)
    const match = 'https://example.com/a b/%41?q=1:é'
    const subscriber = await connect(hub, {
      protocol: '1.0',
      selectors: [selector({ type: 'exact', match })],
      claims: null,
    })
    await eventually(() => about(watcher.events, subscriber.id).length === 1, 'one event')
    const [event] = about(watcher.events, subscriber.id)
    assert.equal(event?.json.match, match)
    assert.equal(
      event?.json.id,
      `${PATH}/exact/https%3A%2F%2Fexample.com%2Fa%20b%2F%2541%3Fq%3D1%3A%C3%A9/${encodeURIComponent(subscriber.id)}`,
    )
    hub.close()
  })

  it('keep private: a 1.0 listener without the grant gets nothing', async () => {
    const hub = startHub()
    const ungranted = await connect(hub, { protocol: '1.0', selectors: [WATCH_V1], claims: null })
    const watcher = await watchV1(hub)
    const subscriber = await connect(hub, member)
    await eventually(() => about(watcher.events, subscriber.id).length === 3, 'three events')
    assert.equal(ungranted.events.length, 0)
    hub.close()
  })

  it('cost one unit of budget per subscription change, whatever the shapes', async () => {
    const dropped: Array<[number, SubscriptionEventDropReason]> = []
    const hub = startHub({
      // 3 selectors joining and leaving: 6 units, the whole burst.
      subscriptionEventLimits: { perSecond: 0.001, burst: 6 },
      metrics: { subscriptionEventsDropped: (count, reason) => dropped.push([count, reason]) },
    })
    const watcherV1 = await connect(hub, {
      protocol: '1.0',
      selectors: [WATCH_V1],
      claims: { subscribe: [WATCH_V1] },
      clientAddress: '192.0.2.1',
    })
    const watcher0x = await connect(hub, {
      selectors: [WATCH_0X],
      claims: { subscribe: [WATCH_0X] },
      clientAddress: '192.0.2.2',
    })
    const subscriber = await connect(hub, { ...member, clientAddress: '192.0.2.3' })
    await eventually(() => about(watcherV1.events, subscriber.id).length === 3, 'three 1.0')
    await eventually(() => about(watcher0x.events, subscriber.id).length === 3, 'three 0.x')
    const over = await connect(hub, { ...member, clientAddress: '192.0.2.3' })
    assert.deepEqual(dropped, [[3, 'rate']])
    subscriber.close()
    await eventually(() => about(watcherV1.events, subscriber.id).length === 6, 'leaving, 1.0')
    await eventually(() => about(watcher0x.events, subscriber.id).length === 6, 'leaving, 0.x')
    assert.equal(about(watcherV1.events, over.id).length, 0)
    hub.close()
  })

  it('keep the `mercure` type through a relay that carries only id, topics, data and private', async () => {
    const listeners = new Set<(event: Update) => void>()
    const relayed: Update[] = []
    const relay: SubscriptionEventRelay = {
      send: ({ id, topics, data, private: isPrivate }) => {
        relayed.push({ id, topics, data, private: isPrivate })
        queueMicrotask(() => {
          for (const listener of listeners) listener({ id, topics, data, private: isPrivate })
        })
      },
      onEvent: (listener) => {
        listeners.add(listener)
        return () => listeners.delete(listener)
      },
    }
    const hub = startHub({ relay })
    const watcher = await watchV1(hub)
    const subscriber = await connect(hub, member)
    await eventually(() => about(watcher.events, subscriber.id).length === 3, 'three events')
    assert.ok(about(watcher.events, subscriber.id).every((e) => e.type === 'mercure'))
    // Per change: one event in each shape (the watcher's own subscription, then the member's 3).
    assert.equal(relayed.length, 2 * 4)
    hub.close()
  })
})

import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { FetchLike } from './client-options.ts'
import type { SseGapEvent } from './gap.ts'
import { SseClient } from './sse-client.ts'

const encoder = new TextEncoder()
const HUB = 'https://hub.example/.well-known/mercure'

/** A response body the test writes to. */
function pipe() {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
  })
  return { stream, push: (text: string) => controller.enqueue(encoder.encode(text)) }
}

function eventStream(body: ReadableStream<Uint8Array> | string, headers: HeadersInit = {}) {
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'text/event-stream', ...headers },
  })
}

/** A fetch answering `respond(n)` for the n-th call (from 1), recording URL and headers. */
function fakeFetch(respond: (n: number) => Response) {
  const calls: Array<{ url: string; headers: Headers }> = []
  const fetch: FetchLike = (input, init) => {
    calls.push({ url: String(input), headers: new Headers(init.headers) })
    return Promise.resolve(respond(calls.length))
  }
  return { fetch, calls }
}

function next<E extends Event = Event>(client: SseClient, type: string): Promise<E> {
  return new Promise((resolve) =>
    client.addEventListener(type, (e) => resolve(e as unknown as E), { once: true }),
  )
}

const GAP_BLOCK =
  'event: mercure\nid: urn:uuid:head\ndata: {"type":"gap","last_event_id":"urn:uuid:lost"}\n\n'
const SUBSCRIPTION = {
  id: '/.well-known/mercure/subscriptions/exact/%2Fchat%2Flobby/urn%3Auuid%3As1',
  type: 'subscription',
  subscriber: 'urn:uuid:s1',
  match: '/chat/lobby',
  match_type: 'exact',
  active: true,
  payload: { nickname: 'Ada' },
}

const open = new Set<SseClient>()
function track(client: SseClient): SseClient {
  open.add(client)
  return client
}
afterEach(() => {
  for (const client of open) client.close()
  open.clear()
})

describe('SseClient with Mercure 1.0 matchers', () => {
  it('subscribes with match and match_urlpattern, the token in the Authorization header only', async () => {
    const { fetch, calls } = fakeFetch(() => eventStream(''))
    const client = track(
      new SseClient(HUB, {
        fetch,
        match: ['/chat/lobby'],
        matchUrlPattern: ['/.well-known/mercure/subscriptions/:match_type/:match/:subscriber'],
        headers: () => ({ authorization: 'Bearer a.b.c' }),
      }),
    )
    await next(client, 'open')
    const url = new URL(calls[0]?.url ?? '')
    assert.deepEqual(url.searchParams.getAll('match'), ['/chat/lobby'])
    assert.deepEqual(url.searchParams.getAll('match_urlpattern'), [
      '/.well-known/mercure/subscriptions/:match_type/:match/:subscriber',
    ])
    assert.equal(url.searchParams.has('topic'), false)
    assert.equal(url.searchParams.has('authorization'), false)
    assert.equal(calls[0]?.headers.get('authorization'), 'Bearer a.b.c')
  })

  it('refuses topics mixed with matchers, and a token in a 1.0 URL, before connecting', () => {
    const { fetch, calls } = fakeFetch(() => eventStream(''))
    assert.throws(() => new SseClient(HUB, { fetch, topics: ['/a'], match: ['/a'] }), TypeError)
    assert.throws(
      () => new SseClient(`${HUB}?authorization=t`, { fetch, matchUrlPattern: ['/a/*'] }),
      TypeError,
    )
    assert.equal(calls.length, 0)
  })

  it('dispatches subscription events to mercure listeners, as EventSource would, not to onmessage', async () => {
    const body = pipe()
    const { fetch } = fakeFetch(() => eventStream(body.stream))
    const client = track(new SseClient(HUB, { fetch, match: ['/chat/lobby'], gapSignal: true }))
    const messages: string[] = []
    client.onmessage = (event) => messages.push(event.data)
    const gaps: SseGapEvent[] = []
    client.ongap = (event) => gaps.push(event)
    const iterator = client[Symbol.asyncIterator]()
    await next(client, 'open')
    const received = next<MessageEvent<string>>(client, 'mercure')
    body.push(`event: mercure\nid: urn:uuid:e1\ndata: ${JSON.stringify(SUBSCRIPTION)}\n\n`)
    const event = await received
    assert.deepEqual(JSON.parse(event.data), SUBSCRIPTION)
    assert.equal(event.lastEventId, 'urn:uuid:e1')
    assert.equal((await iterator.next()).value?.type, 'mercure')
    assert.deepEqual(messages, [])
    assert.deepEqual(gaps, [])
  })

  it('asks for gap=1 and turns the hub gap block into gap, never into a server event', async () => {
    const body = pipe()
    const { fetch, calls } = fakeFetch(() => eventStream(body.stream))
    const client = track(
      new SseClient(HUB, {
        fetch,
        match: ['/a'],
        gapSignal: true,
        lastEventId: 'urn:uuid:lost',
      }),
    )
    const seen: string[] = []
    client.addEventListener('mercure', (event) => seen.push(`mercure ${event.data}`))
    client.addEventListener('message', (event) => seen.push(`message ${event.data}`))
    client.addEventListener('gap', (gap) =>
      seen.push(`gap ${gap.requestedId} ${gap.hubLastEventId}`),
    )
    await next(client, 'open')
    assert.equal(new URL(calls[0]?.url ?? '').searchParams.get('gap'), '1')
    const done = next(client, 'message')
    body.push(`${GAP_BLOCK}id: urn:uuid:next\ndata: live\n\n`)
    await done
    assert.deepEqual(seen, ['gap urn:uuid:lost urn:uuid:head', 'message live'])
  })

  it('fires one gap when the response header and the gap block both tell it', async () => {
    const body = pipe()
    const { fetch } = fakeFetch(() =>
      eventStream(body.stream, { 'mercure-last-event-id': 'earliest' }),
    )
    const client = track(
      new SseClient(HUB, { fetch, match: ['/a'], gapSignal: true, lastEventId: 'urn:uuid:lost' }),
    )
    const gaps: SseGapEvent[] = []
    client.addEventListener('gap', (gap) => gaps.push(gap))
    const mercure: string[] = []
    client.addEventListener('mercure', (event) => mercure.push(event.data))
    await next(client, 'open')
    const done = next(client, 'message')
    body.push(`${GAP_BLOCK}data: live\n\n`)
    await done
    assert.deepEqual(
      gaps.map((gap) => [gap.requestedId, gap.hubLastEventId]),
      [['urn:uuid:lost', 'earliest']],
    )
    assert.deepEqual(mercure, [])
    // The block's id is the new cursor: a reconnection resumes from the newest id, not the lost one.
    assert.equal(client.lastEventId, 'urn:uuid:head')
  })

  it('resumes from the newest id after a gap block, so a drop right after it is no new gap', async () => {
    const { fetch, calls } = fakeFetch((n) =>
      n === 1
        ? eventStream(GAP_BLOCK, { 'mercure-last-event-id': 'earliest' })
        : eventStream(pipe().stream, { 'mercure-last-event-id': 'urn:uuid:head' }),
    )
    const client = track(
      new SseClient(HUB, {
        fetch,
        match: ['/a'],
        gapSignal: true,
        lastEventId: 'urn:uuid:lost',
        initialRetryMs: 1,
        jitter: false,
      }),
    )
    let gaps = 0
    client.addEventListener('gap', () => gaps++)
    await next(client, 'open')
    await next(client, 'open')
    assert.deepEqual(
      calls.map((call) => call.headers.get('last-event-id')),
      ['urn:uuid:lost', 'urn:uuid:head'],
    )
    assert.equal(gaps, 1)
  })

  it('dispatches an event: mercure block as a server event when the gap signal was not asked for', async () => {
    const { fetch } = fakeFetch(() => eventStream(GAP_BLOCK))
    const client = track(new SseClient(HUB, { fetch, match: ['/a'] }))
    const event = await next<MessageEvent<string>>(client, 'mercure')
    assert.equal(JSON.parse(event.data).type, 'gap')
    assert.equal(new URL(client.url).searchParams.has('gap'), false)
  })
})

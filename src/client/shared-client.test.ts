import assert from 'node:assert/strict'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FetchLike } from './client-options.ts'
import type { RelayMessage } from './relay-message.ts'
import { createSharedClient, SharedSseClient } from './shared-client.ts'

const encoder = new TextEncoder()
const HUB = 'https://hub.example/.well-known/mercure'

/**
 * The Web Locks API as far as the shared client uses it: exclusive locks granted in request
 * order, held until the callback's promise settles; a pending request withdrawn by its signal.
 */
class FakeLocks {
  readonly #held = new Set<string>()
  readonly #waiting = new Map<string, Array<() => void>>()

  request(
    name: string,
    options: { signal?: AbortSignal },
    callback: () => unknown,
  ): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const grant = (): void => {
        this.#held.add(name)
        Promise.resolve()
          .then(callback)
          .then(resolve, reject)
          .finally(() => {
            this.#held.delete(name)
            this.#waiting.get(name)?.shift()?.()
          })
      }
      if (!this.#held.has(name) && (this.#waiting.get(name)?.length ?? 0) === 0) {
        grant()
        return
      }
      const queue = this.#waiting.get(name) ?? []
      this.#waiting.set(name, queue)
      queue.push(grant)
      options.signal?.addEventListener('abort', () => {
        const at = queue.indexOf(grant)
        if (at === -1) return
        queue.splice(at, 1)
        reject(new DOMException('The request was aborted.', 'AbortError'))
      })
    })
  }
}

/** A fetch answering each call with a stream the test writes to, recording the calls. */
function fakeHub() {
  const calls: Array<{
    lastEventId: string | null
    signal: AbortSignal
    push: (text: string) => void
  }> = []
  const fetch: FetchLike = (_input, init) => {
    let controller!: ReadableStreamDefaultController<Uint8Array>
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c
      },
    })
    calls.push({
      lastEventId: new Headers(init.headers).get('last-event-id'),
      signal: init.signal as AbortSignal,
      push: (text) => controller.enqueue(encoder.encode(text)),
    })
    return Promise.resolve(
      new Response(stream, { status: 200, headers: { 'content-type': 'text/event-stream' } }),
    )
  }
  return { fetch, calls }
}

/** What a client fired, as short strings. */
function record(client: SharedSseClient): string[] {
  const log: string[] = []
  client.onopen = () => log.push('open')
  client.onmessage = (event) => log.push(`${event.data}@${event.lastEventId}`)
  client.onerror = (event) => log.push(`error:${event.code}:${client.readyState}`)
  client.ongap = (event) => log.push(`gap:${event.requestedId}`)
  return log
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (condition()) return
    await sleep(2)
  }
  assert.fail(`timed out waiting for ${what}`)
}

const clients = new Set<SharedSseClient>()
function track(client: SharedSseClient): SharedSseClient {
  clients.add(client)
  return client
}
afterEach(() => {
  for (const client of clients) client.close()
  clients.clear()
})

/** Gives each test of a suite a `navigator` of its own, then puts back Node's (if any). */
function withNavigator(make: () => object): void {
  let saved: PropertyDescriptor | undefined
  beforeEach(() => {
    saved = Object.getOwnPropertyDescriptor(globalThis, 'navigator')
    Object.defineProperty(globalThis, 'navigator', {
      value: make(),
      configurable: true,
      writable: true,
    })
  })
  afterEach(() => {
    if (saved === undefined) delete (globalThis as { navigator?: unknown }).navigator
    else Object.defineProperty(globalThis, 'navigator', saved)
  })
}

describe('SharedSseClient without Web Locks', () => {
  // Node 20 and 22 have no navigator.locks, Node 24 and 26 do: take them away here.
  withNavigator(() => ({}))

  it('is a plain client with a connection of its own', async () => {
    const { fetch, calls } = fakeHub()
    const client = track(createSharedClient(HUB, { fetch, topics: ['/a'], lastEventId: 'x' }))
    const log = record(client)
    assert.equal(client.role, 'standalone')
    assert.equal(client.url, `${HUB}?topic=%2Fa&cursor=1`)
    assert.equal(client.name, client.url)
    await until(() => calls.length === 1, 'the connection')
    assert.equal(calls[0]?.lastEventId, 'x')
    calls[0]?.push('id: 1\ndata: one\n\n')
    await until(() => log.length === 2, 'the event')
    assert.deepEqual(log, ['open', 'one@1'])
    assert.equal(client.readyState, SharedSseClient.OPEN)
    client.close()
    assert.equal(client.readyState, SharedSseClient.CLOSED)
    assert.ok(calls[0]?.signal.aborted)
  })

  it('subscribes with Mercure 1.0 matchers once, and tells a gap signalled in the stream', async () => {
    const { fetch, calls } = fakeHub()
    const urls: string[] = []
    const recording: FetchLike = (input, init) => {
      urls.push(String(input))
      return fetch(input, init)
    }
    const client = track(
      createSharedClient(HUB, {
        fetch: recording,
        match: ['/a'],
        matchUrlPattern: ['/b/:id'],
        gapSignal: true,
        lastEventId: 'lost',
      }),
    )
    const log = record(client)
    const mercure: string[] = []
    client.addEventListener('mercure', (event) => mercure.push(event.data))
    assert.equal(client.url, `${HUB}?match=%2Fa&match_urlpattern=%2Fb%2F%3Aid&cursor=1&gap=1`)
    assert.throws(() => createSharedClient(HUB, { topics: ['/a'], match: ['/a'] }), TypeError)
    await until(() => calls.length === 1, 'the connection')
    assert.deepEqual(urls, [client.url])
    calls[0]?.push('event: mercure\nid: head\ndata: {"type":"gap","last_event_id":"lost"}\n\n')
    calls[0]?.push('event: mercure\nid: s1\ndata: {"type":"subscription"}\n\n')
    await until(() => mercure.length === 1, 'the subscription event')
    assert.deepEqual(log, ['open', 'gap:lost'])
    assert.deepEqual(mercure, ['{"type":"subscription"}'])
  })

  it('checks its options at once, as SseClient does', () => {
    assert.throws(() => new SharedSseClient(HUB, { lastEventId: 'a\nb' }), TypeError)
    assert.throws(() => new SharedSseClient('not a url'), SyntaxError)
    assert.throws(() => new SharedSseClient(HUB, { inactivityTimeoutMs: -1 }), RangeError)
  })
})

describe('SharedSseClient with Web Locks and BroadcastChannel', () => {
  withNavigator(() => ({ locks: new FakeLocks() }))

  it('lets the first tab lead on one connection and relays its events to the others', async () => {
    const { fetch, calls } = fakeHub()
    const leader = track(createSharedClient(HUB, { fetch, name: 'room' }))
    const leaderLog = record(leader)
    await until(() => leader.role === 'leader' && calls.length === 1, 'a leader')
    calls[0]?.push(':\n\n')
    await until(() => leader.readyState === 1, 'the leader to open')
    const follower = track(createSharedClient(HUB, { fetch, name: 'room' }))
    const followerLog = record(follower)
    await until(() => follower.readyState === 1, 'the follower to hear the leader')
    calls[0]?.push('id: 1\ndata: one\n\nevent: ping\nid: 2\ndata: two\n\n')
    let pings = 0
    follower.addEventListener('ping', () => pings++)
    await until(() => followerLog.length === 2, 'the relay')
    await until(() => pings === 1, 'the ping')
    assert.equal(follower.role, 'follower')
    assert.equal(calls.length, 1)
    assert.deepEqual(leaderLog, ['open', 'one@1'])
    assert.deepEqual(followerLog, ['open', 'one@1'])
    assert.equal(follower.lastEventId, '2')
  })

  it('hands over to a follower, which resumes from the last id and drops duplicates', async () => {
    const { fetch, calls } = fakeHub()
    const first = track(createSharedClient(HUB, { fetch, name: 'feed' }))
    await until(() => calls.length === 1, 'the first leader')
    calls[0]?.push('id: 1\ndata: one\n\n')
    await until(() => first.lastEventId === '1', 'the first event')
    const second = track(createSharedClient(HUB, { fetch, name: 'feed' }))
    const third = track(createSharedClient(HUB, { fetch, name: 'feed' }))
    const secondLog = record(second)
    const thirdLog = record(third)
    await until(() => third.readyState === 1 && second.readyState === 1, 'the followers')
    // A tab that joined live resumes, if it comes to lead, from where the leader stood.
    assert.equal(third.lastEventId, '1')
    calls[0]?.push('id: 2\ndata: two\n\n')
    await until(() => thirdLog.length === 2 && secondLog.length === 2, 'the relay')

    first.close()
    await until(() => second.role === 'leader' && calls.length === 2, 'the hand-over')
    assert.equal(calls[1]?.lastEventId, '2')
    assert.ok(calls[0]?.signal.aborted)
    // The old leader's last relay, still in flight when the new leader connected: the new
    // connection brings the same event again, and the third tab must show it once.
    const ghost = new BroadcastChannel('ssehub-shared/1:feed')
    const late: RelayMessage = {
      kind: 'event',
      type: 'message',
      data: 'three',
      id: '3',
      origin: 'https://hub.example',
      fresh: true,
    }
    ghost.postMessage(late)
    ghost.close()
    await until(() => thirdLog.length === 3, 'the late relay')
    assert.equal(secondLog.length, 2, 'a leader ignores relays')
    // The hub replays from 2, then goes on; an event without an id of its own is never a duplicate.
    calls[1]?.push('id: 3\ndata: three\n\nid: 4\ndata: four\n\ndata: no id\n\n')
    await until(() => thirdLog.length === 5 && secondLog.length === 5, 'the new leader')
    await sleep(20)
    assert.deepEqual(thirdLog, ['open', 'two@2', 'three@3', 'four@4', 'no id@4'])
    assert.deepEqual(secondLog, ['open', 'two@2', 'three@3', 'four@4', 'no id@4'])
  })

  it('catches a late follower up from its lastEventId, holding live events back', async () => {
    const { fetch, calls } = fakeHub()
    const leader = track(createSharedClient(HUB, { fetch, name: 'chat', lastEventId: 'earliest' }))
    await until(() => calls.length === 1, 'the leader')
    calls[0]?.push('id: 1\ndata: one\n\nid: 2\ndata: two\n\n')
    await until(() => leader.lastEventId === '2', 'the history')

    const late = track(createSharedClient(HUB, { fetch, name: 'chat', lastEventId: 'earliest' }))
    const log = record(late)
    await until(() => calls.length === 2, 'the catch-up connection')
    assert.equal(calls[1]?.lastEventId, 'earliest')
    // A live event arrives (relayed) before the catch-up has replayed the history: held back.
    calls[0]?.push('id: 3\ndata: three\n\n')
    await until(() => leader.lastEventId === '3', 'the live event')
    await sleep(20)
    assert.deepEqual(log, ['open'])
    calls[1]?.push('id: 1\ndata: one\n\nid: 2\ndata: two\n\nid: 3\ndata: three\n\n')
    await until(() => log.length === 4, 'the catch-up')
    assert.deepEqual(log, ['open', 'one@1', 'two@2', 'three@3'])
    assert.ok(calls[1]?.signal.aborted, 'the catch-up connection ends at the leader')
    assert.equal(late.role, 'follower')
  })

  it("ends a late follower's catch-up at the leader's last update of the history, not at a subscription event (never replayed)", async () => {
    const { fetch, calls } = fakeHub()
    const leader = track(createSharedClient(HUB, { fetch, name: 'chat', lastEventId: 'earliest' }))
    await until(() => calls.length === 1, 'the leader')
    // The history, then a subscription event: the hub sends those live only, with a `#` id.
    calls[0]?.push('id: 1\ndata: one\n\nid: #a/1\ndata: joined\n\n')
    await until(() => leader.lastEventId === '#a/1', 'the subscription event')

    const late = track(createSharedClient(HUB, { fetch, name: 'chat', lastEventId: 'earliest' }))
    const log = record(late)
    await until(() => calls.length === 2, 'the catch-up connection')
    calls[1]?.push('id: 1\ndata: one\n\n')
    await until(() => log.length === 2, 'the catch-up')
    assert.deepEqual(log, ['open', 'one@1'])
    assert.ok(calls[1]?.signal.aborted, 'the catch-up ends at update 1, the last it can replay')
    calls[0]?.push('id: 2\ndata: two\n\n')
    await until(() => log.length === 3, 'a live event, relayed')
    assert.deepEqual(log, ['open', 'one@1', 'two@2'])
  })

  it('ends every tab when the hub says stop, as one client would', async () => {
    let requests = 0
    const fetch: FetchLike = () => {
      requests++
      return Promise.resolve(new Response(null, { status: 204 }))
    }
    const leader = track(createSharedClient(HUB, { fetch, name: 'stop' }))
    const follower = track(createSharedClient(HUB, { fetch, name: 'stop' }))
    const log = record(follower)
    await until(() => follower.readyState === 2, 'the end')
    await sleep(20)
    assert.deepEqual(log, ['error:no-content:2'])
    assert.equal(leader.readyState, 2)
    // The lock may reach the follower before the leader's last word does: one more request.
    assert.ok(requests <= 2, `${requests} requests`)
  })

  it('goes alone when the lock is refused (an opaque origin)', async () => {
    const refusing = {
      request: () => Promise.reject(new DOMException('No locks here.', 'SecurityError')),
    }
    Object.defineProperty(globalThis, 'navigator', {
      value: { locks: refusing },
      configurable: true,
    })
    const { fetch, calls } = fakeHub()
    const client = track(createSharedClient(HUB, { fetch, name: 'opaque' }))
    const log = record(client)
    await until(() => client.role === 'standalone' && calls.length === 1, 'its own connection')
    calls[0]?.push('id: 1\ndata: one\n\n')
    await until(() => log.length === 2, 'the event')
    assert.deepEqual(log, ['open', 'one@1'])
  })

  it('passes the lock on at close(), and ends its loops', async () => {
    const { fetch, calls } = fakeHub()
    const first = track(createSharedClient(HUB, { fetch, name: 'close' }))
    await until(() => first.role === 'leader', 'a leader')
    const second = track(createSharedClient(HUB, { fetch, name: 'close' }))
    const loop = (async () => {
      const seen: string[] = []
      for await (const event of second) seen.push(event.data)
      return seen
    })()
    await until(() => calls.length === 1, 'the connection')
    calls[0]?.push('id: 1\ndata: one\n\n')
    await until(() => second.lastEventId === '1', 'the relay')
    first.close()
    await until(() => second.role === 'leader', 'the hand-over')
    second.close()
    assert.deepEqual(await loop, ['one'])
    const third = track(createSharedClient(HUB, { fetch, name: 'close' }))
    await until(() => third.role === 'leader', 'the lock, released by close()')
  })
})

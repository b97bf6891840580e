import assert from 'node:assert/strict'
import { afterEach, describe, it } from 'node:test'
import type { FetchLike } from './client-options.ts'
import type { SseErrorEvent } from './error-event.ts'
import { ITERATOR_HIGH_WATER_MARK } from './message-queue.ts'
import { createClient, SseClient } from './sse-client.ts'

const encoder = new TextEncoder()
const URL_ = 'https://hub.example/.well-known/mercure'

/** A response body the test writes to. */
function pipe() {
  let controller!: ReadableStreamDefaultController<Uint8Array>
  const stream = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c
    },
  })
  return {
    stream,
    push: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
  }
}

function eventStream(body: ReadableStream<Uint8Array> | string | null, init: ResponseInit = {}) {
  return new Response(body, {
    status: 200,
    headers: { 'content-type': 'text/event-stream' },
    ...init,
  })
}

/** A fetch that answers with `respond(n)` for the n-th call (from 1) and records every call. */
function fakeFetch(respond: (n: number) => Response | Promise<Response>) {
  const calls: Array<{ url: string; init: RequestInit; self: unknown }> = []
  const fetch: FetchLike = function (this: unknown, input, init) {
    calls.push({ url: String(input), init, self: this })
    return Promise.resolve(respond(calls.length))
  }
  return { fetch, calls }
}

/** Resolves with the next `type` event of `client`. */
function next<E extends Event = Event>(client: SseClient, type: string): Promise<E> {
  return new Promise((resolve) =>
    client.addEventListener(type, (e) => resolve(e as unknown as E), { once: true }),
  )
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

describe('SseClient', () => {
  it('has the EventSource constants, url and withCredentials', () => {
    const { fetch } = fakeFetch(() => eventStream(''))
    const client = track(new SseClient(URL_, { fetch, withCredentials: true }))
    assert.deepEqual(
      [SseClient.CONNECTING, SseClient.OPEN, SseClient.CLOSED],
      [client.CONNECTING, client.OPEN, client.CLOSED],
    )
    assert.deepEqual([client.CONNECTING, client.OPEN, client.CLOSED], [0, 1, 2])
    assert.equal(client.readyState, 0)
    assert.equal(client.url, URL_)
    assert.equal(client.withCredentials, true)
  })

  it('calls the injected fetch unbound, with cache no-store, cors and the credentials mode', async () => {
    const { fetch, calls } = fakeFetch(() => eventStream(''))
    track(createClient(URL_, { fetch, withCredentials: true }))
    track(createClient(URL_, { fetch }))
    await Promise.resolve()
    await Promise.resolve()
    assert.equal(calls.length, 2)
    const [withCookies, plain] = calls
    assert.equal(withCookies?.self, undefined)
    assert.equal(withCookies?.init.cache, 'no-store')
    assert.equal(withCookies?.init.mode, 'cors')
    assert.equal(withCookies?.init.credentials, 'include')
    assert.equal(plain?.init.credentials, 'same-origin')
    assert.equal(new Headers(plain?.init.headers).get('accept'), 'text/event-stream')
  })

  it('adds the topics as topic parameters of one URL', () => {
    const { fetch } = fakeFetch(() => eventStream(''))
    const client = track(new SseClient(URL_, { fetch, topics: ['/a', '/b/{id}'] }))
    assert.deepEqual(new URL(client.url).searchParams.getAll('topic'), ['/a', '/b/{id}'])
  })

  it('fires nothing before the constructor returns, so listeners added after it miss nothing', async () => {
    const { fetch } = fakeFetch(() => eventStream('data: first\n\n'))
    const client = track(new SseClient(URL_, { fetch }))
    const message = await next<MessageEvent>(client, 'message')
    assert.equal(message.data, 'first')
  })

  it('dispatches messages and typed events to on-handlers and listeners', async () => {
    const body = pipe()
    const { fetch } = fakeFetch(() => eventStream(body.stream))
    const client = track(new SseClient(URL_, { fetch }))
    const seen: string[] = []
    client.onopen = () => seen.push('onopen')
    client.onmessage = (event) => seen.push(`onmessage ${event.data}`)
    client.addEventListener('message', (event) => seen.push(`listener ${event.data}`))
    client.addEventListener('update', (event) =>
      seen.push(`update ${event.data} ${event.lastEventId}`),
    )
    await next(client, 'open')
    const done = next(client, 'update')
    body.push('data: one\n\nevent: update\nid: 7\ndata: two\n\n')
    await done
    assert.deepEqual(seen, ['onopen', 'onmessage one', 'listener one', 'update two 7'])
    assert.equal(client.lastEventId, '7')
  })

  it('replaces an on-handler when set again and removes it when set to null', async () => {
    const body = pipe()
    const { fetch } = fakeFetch(() => eventStream(body.stream))
    const client = track(new SseClient(URL_, { fetch }))
    const seen: string[] = []
    const first = () => seen.push('first')
    client.onmessage = first
    client.onmessage = () => seen.push('second')
    assert.notEqual(client.onmessage, first)
    await next(client, 'open')
    body.push('data: a\n\n')
    await next(client, 'message')
    client.onmessage = null
    assert.equal(client.onmessage, null)
    body.push('data: b\n\n')
    await next(client, 'message')
    assert.deepEqual(seen, ['second'])
  })

  it('yields every server event to for-await, in order, and ends when closed', async () => {
    const body = pipe()
    const { fetch } = fakeFetch(() => eventStream(body.stream))
    const client = track(new SseClient(URL_, { fetch }))
    body.push('data: 1\n\nevent: custom\ndata: 2\n\ndata: 3\n\n')
    const seen: string[] = []
    for await (const event of client) {
      seen.push(`${event.type}:${event.data}`)
      if (seen.length === 3) client.close()
    }
    assert.deepEqual(seen, ['message:1', 'custom:2', 'message:3'])
  })

  it('ends for-await after a failed connection, with the reason in the error event', async () => {
    const { fetch } = fakeFetch(() => new Response('nope', { status: 401 }))
    const client = track(new SseClient(URL_, { fetch }))
    const error = next<SseErrorEvent>(client, 'error')
    const seen: unknown[] = []
    for await (const event of client) seen.push(event)
    assert.deepEqual(seen, [])
    assert.equal((await error).code, 'http-status')
    assert.equal((await error).status, 401)
    assert.equal(client.readyState, client.CLOSED)
  })

  it('stops on 431 with headers-too-large, giving the size of the Last-Event-ID but not its value', async () => {
    const { fetch, calls } = fakeFetch(() => new Response('too large', { status: 431 }))
    const id = `urn:${'x'.repeat(1996)}`
    const client = track(new SseClient(URL_, { fetch, lastEventId: id, initialRetryMs: 1 }))
    const error = await next<SseErrorEvent>(client, 'error')
    assert.equal(error.code, 'headers-too-large')
    assert.equal(error.status, 431)
    assert.match(error.message, /too large \(431\)/)
    assert.match(error.message, /Last-Event-ID sent was 2000 bytes/)
    assert.doesNotMatch(error.message, /xxxx/, 'never the header value itself')
    assert.equal(client.readyState, client.CLOSED)
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(calls.length, 1, 'no reconnection: the same headers would be refused again')
  })

  it('stops on 431 without a long Last-Event-ID by pointing at cookies and the Authorization header', async () => {
    const { fetch } = fakeFetch(() => new Response(null, { status: 431 }))
    const client = track(new SseClient(URL_, { fetch, lastEventId: 'urn:uuid:1' }))
    const error = await next<SseErrorEvent>(client, 'error')
    assert.equal(error.code, 'headers-too-large')
    assert.match(error.message, /cookies and the Authorization header/)
  })

  it('stops on 414 with url-too-long, saying how long the URL is and what to change', async () => {
    const { fetch, calls } = fakeFetch(() => new Response(null, { status: 414 }))
    const topics = Array.from({ length: 50 }, (_, i) => `https://example.com/topics/${i}`)
    const client = track(new SseClient(URL_, { fetch, topics, initialRetryMs: 1 }))
    const error = await next<SseErrorEvent>(client, 'error')
    assert.equal(error.code, 'url-too-long')
    assert.equal(error.status, 414)
    assert.match(error.message, new RegExp(`${client.url.length} characters`))
    assert.match(error.message, /fewer or shorter topics/)
    assert.equal(client.readyState, client.CLOSED)
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(calls.length, 1)
  })

  it('says why it stops on other statuses: credentials, overload, a refused request', async () => {
    for (const [status, reason] of [
      [401, /refused the credentials \(401\)/],
      [403, /refused the credentials \(403\)/],
      [500, /500, not 200: it failed/],
      [400, /400, not 200 \(a refused request/],
    ] as const) {
      const { fetch } = fakeFetch(() => new Response(null, { status }))
      const client = track(new SseClient(URL_, { fetch }))
      const error = await next<SseErrorEvent>(client, 'error')
      assert.equal(error.code, 'http-status')
      assert.equal(error.status, status)
      assert.match(error.message, reason)
      assert.equal(client.readyState, client.CLOSED)
    }
  })

  it('retries 429, 502, 503 and 504 with its backoff, saying why, and opens once the server answers 200', async () => {
    for (const status of [429, 502, 503, 504]) {
      const { fetch, calls } = fakeFetch((n) =>
        n === 1 ? new Response(null, { status }) : eventStream('data: back\n\n'),
      )
      const client = track(new SseClient(URL_, { fetch, initialRetryMs: 1 }))
      const error = await next<SseErrorEvent>(client, 'error')
      assert.equal(error.code, 'http-status')
      assert.equal(error.status, status)
      assert.match(error.message, new RegExp(`${status}, not 200: it is overloaded, restarting`))
      assert.equal(client.readyState, client.CONNECTING)
      assert.equal((await next<MessageEvent>(client, 'message')).data, 'back')
      assert.equal(calls.length, 2)
      client.close()
    }
  })

  it('waits at least the Retry-After of a 429 before it tries again', async () => {
    const { fetch, calls } = fakeFetch((n) =>
      n === 1
        ? new Response(null, { status: 429, headers: { 'retry-after': '1' } })
        : eventStream('data: in\n\n'),
    )
    const client = track(new SseClient(URL_, { fetch, initialRetryMs: 1 }))
    const started = Date.now()
    await next<SseErrorEvent>(client, 'error')
    await new Promise((resolve) => setTimeout(resolve, 300))
    assert.equal(calls.length, 1, 'not before Retry-After, though its backoff is 1 ms')
    assert.equal((await next<MessageEvent>(client, 'message')).data, 'in')
    assert.ok(Date.now() - started >= 1000, `tried again after ${Date.now() - started} ms`)
  })

  it('detaches a loop left with break and keeps the connection for the others', async () => {
    const body = pipe()
    const { fetch } = fakeFetch(() => eventStream(body.stream))
    const client = track(new SseClient(URL_, { fetch }))
    body.push('data: 1\n\n')
    for await (const _ of client) break
    assert.equal(client.readyState, client.OPEN)
    const later = next<MessageEvent>(client, 'message')
    body.push('data: 2\n\n')
    assert.equal((await later).data, '2')
  })

  it('stops reading while a loop holds a full queue, and reads on once it catches up', async () => {
    let pulls = 0
    const stream = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          pulls++
          controller.enqueue(encoder.encode(`data: ${pulls}\n\n`))
        },
      },
      { highWaterMark: 0 },
    )
    const { fetch } = fakeFetch(() => eventStream(stream))
    const client = track(new SseClient(URL_, { fetch }))
    const iterator = client[Symbol.asyncIterator]()
    await new Promise<void>((resolve) => {
      const check = () => (pulls >= ITERATOR_HIGH_WATER_MARK ? resolve() : setTimeout(check, 5))
      check()
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const stalled = pulls
    assert.ok(stalled <= ITERATOR_HIGH_WATER_MARK + 2, `read ${stalled} chunks into a full queue`)
    for (let i = 0; i < 10; i++) await iterator.next()
    await new Promise((resolve) => setTimeout(resolve, 50))
    assert.ok(pulls > stalled, 'reading resumed')
    await iterator.return?.()
  })

  it('closes when its signal aborts, and never connects with an aborted one', async () => {
    const { fetch, calls } = fakeFetch(() => eventStream(pipe().stream))
    const controller = new AbortController()
    const client = track(new SseClient(URL_, { fetch, signal: controller.signal }))
    await next(client, 'open')
    controller.abort()
    assert.equal(client.readyState, client.CLOSED)
    const dead = new SseClient(URL_, { fetch, signal: AbortSignal.abort() })
    assert.equal(dead.readyState, dead.CLOSED)
    await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(calls.length, 1)
  })

  it('sends its own Last-Event-ID, never one from the headers option', async () => {
    const { fetch, calls } = fakeFetch(() => eventStream(''))
    track(new SseClient(URL_, { fetch, lastEventId: '…', headers: { 'last-event-id': 'stale' } }))
    track(new SseClient(URL_, { fetch, headers: { 'last-event-id': 'stale' } }))
    await new Promise((resolve) => setTimeout(resolve, 10))
    assert.equal(new Headers(calls[0]?.init.headers).get('last-event-id'), '\xE2\x80\xA6')
    assert.equal(new Headers(calls[1]?.init.headers).get('last-event-id'), null)
  })

  it('fails the connection, without reconnecting, on a line beyond the parser bound', async () => {
    const { fetch, calls } = fakeFetch(() => eventStream(`data: ${'x'.repeat(1_100_000)}\n\n`))
    const client = track(new SseClient(URL_, { fetch, initialRetryMs: 1 }))
    const error = await next<SseErrorEvent>(client, 'error')
    assert.equal(error.code, 'line-too-long')
    assert.equal(client.readyState, client.CLOSED)
    await new Promise((resolve) => setTimeout(resolve, 20))
    assert.equal(calls.length, 1)
  })

  it('reconnects when a 200 comes without a body', async () => {
    const { fetch, calls } = fakeFetch((n) => eventStream(n === 1 ? null : 'data: ok\n\n'))
    const client = track(new SseClient(URL_, { fetch, initialRetryMs: 1 }))
    const error = await next<SseErrorEvent>(client, 'error')
    assert.equal(error.code, 'stream-ended')
    assert.equal(client.readyState, client.CONNECTING)
    await next(client, 'message')
    assert.equal(calls.length, 2)
  })

  it('reports a rejected fetch as a network error and reconnects with growing delays', async () => {
    const { fetch, calls } = fakeFetch(() => Promise.reject(new TypeError('fetch failed')))
    const client = track(new SseClient(URL_, { fetch, initialRetryMs: 20, jitter: false }))
    const errors: SseErrorEvent[] = []
    const times: number[] = []
    client.onerror = (event) => {
      errors.push(event)
      times.push(performance.now())
      if (errors.length === 3) client.close()
    }
    await new Promise<void>((resolve) => {
      const check = () => (errors.length >= 3 ? resolve() : setTimeout(check, 5))
      check()
    })
    assert.deepEqual(
      errors.map((e) => [e.code, e.message]),
      Array(3).fill(['network-error', 'The request failed: fetch failed']),
    )
    assert.equal(calls.length, 3)
    const [t0 = 0, t1 = 0, t2 = 0] = times
    assert.ok(t1 - t0 >= 18 && t2 - t1 >= 38, `delays ${t1 - t0}, ${t2 - t1}: 20 then 40 ms`)
  })

  it('cancels the body on close, even when the fetch ignores the abort signal', async () => {
    let cancelled = false
    const stream = new ReadableStream<Uint8Array>({
      cancel() {
        cancelled = true
      },
    })
    const { fetch } = fakeFetch(() => eventStream(stream))
    const client = track(new SseClient(URL_, { fetch }))
    await next(client, 'open')
    client.close()
    await Promise.resolve()
    assert.equal(cancelled, true)
  })

  it('retries a connection whose headers callback hangs, once inactivityTimeoutMs passes', async () => {
    let calls = 0
    const { fetch } = fakeFetch(() => eventStream('data: ok\n\n'))
    const client = track(
      new SseClient(URL_, {
        fetch,
        inactivityTimeoutMs: 50,
        initialRetryMs: 1,
        headers: () => {
          calls++
          return calls === 1 ? new Promise<HeadersInit>(() => {}) : {}
        },
      }),
    )
    const error = await next<SseErrorEvent>(client, 'error')
    assert.equal(error.code, 'inactivity-timeout')
    assert.equal((await next<MessageEvent>(client, 'message')).data, 'ok')
  })

  it('counts the response itself as activity, not only the chunks after it', async () => {
    // The response takes most of the timeout and the first heartbeat a whole interval more.
    const fetch: FetchLike = async () => {
      await new Promise((resolve) => setTimeout(resolve, 120))
      let beat: ReturnType<typeof setInterval> | undefined
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          beat = setInterval(() => controller.enqueue(encoder.encode(':\n')), 100)
        },
        cancel() {
          clearInterval(beat)
        },
      })
      return eventStream(stream)
    }
    const client = track(new SseClient(URL_, { fetch, inactivityTimeoutMs: 150 }))
    const errors: SseErrorEvent[] = []
    client.onerror = (event) => errors.push(event)
    await next(client, 'open')
    await new Promise((resolve) => setTimeout(resolve, 400))
    assert.deepEqual(
      errors.map((e) => e.code),
      [],
    )
  })

  it('refuses a relative URL outside a browser, an id with a newline, and a zero timeout', () => {
    assert.throws(() => new SseClient('/.well-known/mercure'), SyntaxError)
    assert.throws(() => new SseClient(URL_, { lastEventId: 'a\nb' }), TypeError)
    assert.throws(() => new SseClient(URL_, { inactivityTimeoutMs: 0 }), RangeError)
    assert.throws(() => new SseClient(URL_, { initialRetryMs: -5 }), RangeError)
  })
})

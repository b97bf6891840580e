// Issue #14, item 4: OpenTelemetry spans for publish (auth, store commit, dispatch) and subscribe
// (auth, replay), recorded with a real SDK provider into an in-memory exporter. The first suite runs
// before any provider is registered: the server then makes no tracer and records nothing.

import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { mintToken } from '../src/hub/mint-token.ts'
import { registeredTracer } from '../src/server/registered-tracer.ts'
import { createMercureFetchHandler } from '../src/web/mercure-fetch-handler.ts'
import { startTestHub, TEST_SECRET, type TestHub } from './helpers/hub-server.ts'
import { subscribeSse } from './helpers/sse-events.ts'

const TOPIC = 'https://example.com/books/1'

const exporter = new InMemorySpanExporter()
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })

/** The spans whose parent is `parent`, by name. */
function childrenOf(
  spans: readonly ReadableSpan[],
  parent: ReadableSpan,
): Map<string, ReadableSpan> {
  const id = parent.spanContext().spanId
  return new Map(
    spans.filter((s) => s.parentSpanContext?.spanId === id).map((s) => [s.name, s] as const),
  )
}

/** The one span named `name`, failing the test unless there is exactly one. */
function only(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const found = spans.filter((s) => s.name === name)
  assert.equal(found.length, 1, `${found.length} ${name} spans: ${spans.map((s) => s.name)}`)
  return found[0] as ReadableSpan
}

/** Subscribes to TOPIC, resolving once the stream is open; closes it. */
async function subscribeOnce(hub: TestHub, headers: Record<string, string> = {}) {
  const url = `${hub.hubUrl}?topic=${encodeURIComponent(TOPIC)}`
  return subscribeSse(url, headers)
}

describe('tracing, with no tracer provider registered', () => {
  it('makes no tracer: a provider registered after the server started records nothing', async () => {
    assert.equal(registeredTracer(undefined), null)
    const hub = await startTestHub()
    // Had the server taken a tracer anyway (a ProxyTracer, which forwards to whichever provider
    // is registered later), this provider would now record its spans.
    trace.setGlobalTracerProvider(provider)
    try {
      const sse = await subscribeOnce(hub, { 'last-event-id': 'earliest' })
      await hub.publishOk({ topic: TOPIC, data: 'untraced' })
      await sse.waitForEvents(1)
      sse.close()
    } finally {
      await hub.close()
      trace.disable()
    }
    assert.equal(exporter.getFinishedSpans().length, 0)
  })
})

describe('tracing, with a tracer provider registered', () => {
  let hub: TestHub

  before(async () => {
    trace.setGlobalTracerProvider(provider)
    propagation.setGlobalPropagator(new W3CTraceContextPropagator())
    hub = await startTestHub()
  })

  after(async () => {
    await hub?.close()
    trace.disable()
    propagation.disable()
  })

  it('finds the registered provider once, and leaves a given tracer (or null) alone', () => {
    assert.notEqual(registeredTracer(undefined), null)
    assert.equal(registeredTracer(null), null)
    const mine = provider.getTracer('mine')
    assert.equal(registeredTracer(mine), mine)
  })

  it('records publish → auth, store.commit, dispatch with their attributes', async () => {
    // A private update reaches a subscriber whose token names its topic.
    const token = await hub.token({ subscribe: [TOPIC] })
    const sse = await subscribeOnce(hub, { authorization: `Bearer ${token}` })
    exporter.reset()
    const id = await hub.publishOk({ topic: TOPIC, data: 'héllo', private: 'on' })
    await sse.waitForEvents(1)
    sse.close()
    const spans = exporter.getFinishedSpans()
    const publish = only(spans, 'publish')
    assert.equal(publish.kind, SpanKind.SERVER)
    assert.equal(publish.parentSpanContext, undefined, 'no traceparent: a root span')
    assert.equal(publish.instrumentationScope.name, 'ssehub')
    assert.deepEqual(
      { ...publish.attributes },
      {
        'http.request.method': 'POST',
        'url.path': '/.well-known/mercure',
        'ssehub.protocol': '0.x',
        'ssehub.topics': 1,
        'ssehub.private': true,
        'ssehub.bytes': 6,
        'http.response.status_code': 200,
      },
    )
    assert.equal(publish.status.code, SpanStatusCode.UNSET)
    const children = childrenOf(spans, publish)
    assert.deepEqual([...children.keys()].sort(), ['auth', 'dispatch', 'store.commit'])
    const auth = children.get('auth') as ReadableSpan
    assert.equal(auth.kind, SpanKind.INTERNAL)
    assert.deepEqual(
      { ...auth.attributes },
      { 'ssehub.role': 'publisher', 'ssehub.token': 'header' },
    )
    assert.deepEqual({ ...children.get('dispatch')?.attributes }, { 'ssehub.subscribers': 1 })
    for (const child of children.values()) {
      assert.equal(child.spanContext().traceId, publish.spanContext().traceId)
    }
    assert.match(id, /^urn:uuid:/)
  })

  it("continues the caller's trace from its traceparent header", async () => {
    exporter.reset()
    const traceId = '0af7651916cd43dd8448eb211c80319c'
    const callerSpan = 'b7ad6b7169203331'
    const res = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${await hub.token({ publish: ['*'] })}`,
        'content-type': 'application/x-www-form-urlencoded',
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: new URLSearchParams({ topic: TOPIC, data: 'x' }).toString(),
    })
    assert.equal(res.status, 200)
    await res.text()
    const publish = only(exporter.getFinishedSpans(), 'publish')
    assert.equal(publish.spanContext().traceId, traceId)
    assert.equal(publish.parentSpanContext?.spanId, callerSpan)
  })

  it('records subscribe → auth, replay with the count of updates replayed', async () => {
    const first = await hub.publishOk({ topic: TOPIC, data: 'one' })
    await hub.publishOk({ topic: TOPIC, data: 'two' })
    await hub.publishOk({ topic: TOPIC, data: 'three' })
    exporter.reset()
    const sse = await subscribeOnce(hub, { 'last-event-id': first })
    await sse.waitForEvents(2)
    sse.close()
    const spans = exporter.getFinishedSpans()
    const subscribe = only(spans, 'subscribe')
    assert.equal(subscribe.kind, SpanKind.SERVER)
    assert.deepEqual(
      { ...subscribe.attributes },
      {
        'http.request.method': 'GET',
        'url.path': '/.well-known/mercure',
        'ssehub.protocol': '0.x',
        'ssehub.topics': 1,
        'http.response.status_code': 200,
      },
    )
    const children = childrenOf(spans, subscribe)
    assert.deepEqual([...children.keys()].sort(), ['auth', 'replay'])
    assert.deepEqual(
      { ...children.get('auth')?.attributes },
      { 'ssehub.role': 'subscriber', 'ssehub.token': 'none' },
    )
    assert.deepEqual({ ...children.get('replay')?.attributes }, { 'ssehub.replayed': 2 })
  })

  it('marks an unauthorized publish failed, with its reason and no token text', async () => {
    exporter.reset()
    // Signed with another key: refused as an invalid token.
    const forged = await hub.token({ publish: ['*'] }, 'another-secret-0123456789-abcdefghijklmn')
    const res = await hub.publish({ topic: TOPIC, data: 'x' }, forged)
    assert.equal(res.status, 401)
    await res.text()
    const spans = exporter.getFinishedSpans()
    const publish = only(spans, 'publish')
    assert.equal(publish.status.code, SpanStatusCode.ERROR)
    assert.match(publish.status.message ?? '', /^401 \S/)
    assert.equal(publish.attributes['error.type'], '401')
    const auth = childrenOf(spans, publish).get('auth') as ReadableSpan
    assert.equal(auth.status.code, SpanStatusCode.ERROR)
    assert.equal(auth.status.message, 'invalid-token')
    assert.equal(childrenOf(spans, publish).has('store.commit'), false)
    const recorded = JSON.stringify(
      spans.map((s) => [s.name, s.attributes, s.status, s.events, s.links]),
    )
    for (const part of forged.split('.')) assert.equal(recorded.includes(part), false)
  })

  it('marks a subscription without a required token failed', async () => {
    const closed = await startTestHub({ anonymous: false })
    try {
      exporter.reset()
      const sse = await subscribeOnce(closed)
      assert.equal(sse.status, 401)
      sse.close()
      const subscribe = only(exporter.getFinishedSpans(), 'subscribe')
      assert.equal(subscribe.status.code, SpanStatusCode.ERROR)
      assert.equal(subscribe.attributes['http.response.status_code'], 401)
    } finally {
      await closed.close()
    }
  })

  it("records the same spans through ssehub/web's fetch handler, given a tracer", async () => {
    const handler = createMercureFetchHandler({
      key: TEST_SECRET,
      tracer: provider.getTracer('ssehub'),
      logger: null,
    })
    try {
      exporter.reset()
      const token = await mintToken({ key: TEST_SECRET, publish: ['*'] })
      const res = await handler(
        new Request('http://127.0.0.1/.well-known/mercure', {
          method: 'POST',
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ topic: TOPIC, data: 'web' }),
        }),
      )
      assert.equal(res.status, 200)
      const spans = exporter.getFinishedSpans()
      const publish = only(spans, 'publish')
      assert.deepEqual([...childrenOf(spans, publish).keys()].sort(), [
        'auth',
        'dispatch',
        'store.commit',
      ])
      assert.deepEqual(
        { ...childrenOf(spans, publish).get('dispatch')?.attributes },
        {
          'ssehub.subscribers': 0,
        },
      )
    } finally {
      await handler.close()
    }
  })
})

// OpenTelemetry traces of the Mercure hub, printed to the console: registers an SDK tracer provider
// with a ConsoleSpanExporter, mounts the hub with `tracer`, subscribes once, publishes once (from a
// span of its own, whose trace the publish continues through `traceparent`), prints every span as
// it ends, and exits.
//
//   node --conditions=source --import tsx examples/otel-console.ts
//
// Spans printed: `subscribe` (with `auth`), then `app.publish` and its child `publish` (with
// `auth`, `store.commit`, `dispatch`), all in one trace. See docs/tracing.md.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { context, propagation, trace } from '@opentelemetry/api'
import { W3CTraceContextPropagator } from '@opentelemetry/core'
import {
  BasicTracerProvider,
  ConsoleSpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { createMercureHandler, mintToken } from 'ssehub/node'

// What an app's tracing setup does (often in a file preloaded with `node --import`): a provider
// with an exporter, registered globally, and the W3C propagator for `traceparent`.
const provider = new BasicTracerProvider({
  spanProcessors: [new SimpleSpanProcessor(new ConsoleSpanExporter())],
})
trace.setGlobalTracerProvider(provider)
propagation.setGlobalPropagator(new W3CTraceContextPropagator())
const tracer = trace.getTracer('otel-console-example')

const key = randomBytes(32).toString('base64')
// The hub's spans come from a tracer named after it: exporters show `ssehub` as their scope.
const mercure = createMercureHandler({
  key,
  anonymous: true,
  tracer: trace.getTracer('ssehub'),
  logger: null,
})
const server = createServer(async (req, res) => {
  if (!(await mercure(req, res))) res.writeHead(404).end()
})
await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
const { port } = server.address() as AddressInfo
const hubUrl = `http://127.0.0.1:${port}/.well-known/mercure`
const topic = 'https://example.com/books/1'

// Subscribe: the `subscribe` span ends once the stream is open.
const subscription = new AbortController()
const stream = await fetch(`${hubUrl}?topic=${encodeURIComponent(topic)}`, {
  signal: subscription.signal,
})
const reader = (stream.body as ReadableStream<Uint8Array>).getReader()

// Publish from a span of the app's: its context travels in the `traceparent` header.
const appSpan = tracer.startSpan('app.publish')
const headers: Record<string, string> = {
  authorization: `Bearer ${await mintToken({ key, publish: [topic] })}`,
  'content-type': 'application/x-www-form-urlencoded',
}
propagation.inject(trace.setSpan(context.active(), appSpan), headers)
const published = await fetch(hubUrl, {
  method: 'POST',
  headers,
  body: new URLSearchParams({ topic, data: '{"title":"Dune"}' }),
})
console.log(`published: ${published.status} ${await published.text()}`)
appSpan.end()

// Read until the update arrives, then leave.
const decoder = new TextDecoder()
let received = ''
while (!received.includes('\n\n')) {
  const { value, done } = await reader.read()
  if (done) break
  received += decoder.decode(value, { stream: true })
}
console.log(`received: ${JSON.stringify(received)}`)
subscription.abort()
await mercure.close()
server.close()
await provider.shutdown()

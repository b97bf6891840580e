import { EventStream, type EventStreamOptions } from '../core/event-stream.ts'
import { ReadableStreamSink } from './readable-stream-sink.ts'

/** Options for {@link eventStreamResponse}: those of the core stream, plus the response's. */
export interface EventStreamResponseOptions extends EventStreamOptions {
  /**
   * Extra response headers (for example `Link` or CORS). The SSE headers are set over them.
   * Defaults to none.
   */
  headers?: HeadersInit
  /**
   * High-water mark, in bytes, of the body's queue: once the runtime has not yet taken this many
   * bytes, the stream holds further writes until it does (see `maxQueueBytes` and
   * `stallTimeoutMs` for when a client that does not read is cut). Defaults to `65536` (64 KiB).
   */
  highWaterMark?: number
}

/** An SSE response and the stream that writes its body. */
export interface EventStreamResponse {
  /** Return it from your handler: status 200, SSE headers, the stream as its body. */
  readonly response: Response
  /** Send events with it (`send`, `write`, `comment`), close it, or learn when it closes. */
  readonly stream: EventStream
}

/** The default high-water mark of an SSE body's queue: 64 KiB, as Node's streams since 22. */
export const DEFAULT_HIGH_WATER_MARK = 65_536

/**
 * Starts an SSE response on any runtime with web-standard `Request` and `Response` (Bun, Deno,
 * Node through an adapter, Workers-style runtimes): a `Response` whose body is a `ReadableStream`
 * fed by the core's event stream, with its heartbeats, coalesced writes and bounded backpressure.
 *
 * The opening comment is queued at once, so headers and a first chunk leave as soon as the
 * runtime sends the response. When the client goes away (the request's `signal` aborts, or the
 * runtime cancels the body), the stream closes with `client-closed` and releases everything it
 * holds. A client that stops reading is cut as on Node: see {@link EventStreamOptions}.
 *
 * @example
 * ```ts
 * export function GET(request: Request): Response {
 *   const { response, stream } = eventStreamResponse(request, { retry: 3000 })
 *   const timer = setInterval(() => stream.send({ event: 'tick', data: new Date().toISOString() }), 1000)
 *   stream.onClose(() => clearInterval(timer))
 *   return response
 * }
 * ```
 * @throws {RangeError} for a `highWaterMark` that is not a positive number of bytes, and for the
 *   core stream's options out of range.
 */
export function eventStreamResponse(
  request: Request,
  options: EventStreamResponseOptions = {},
): EventStreamResponse {
  const { headers: extra, highWaterMark = DEFAULT_HIGH_WATER_MARK, ...streamOptions } = options
  if (!(Number.isFinite(highWaterMark) && highWaterMark > 0)) {
    throw new RangeError(
      `highWaterMark must be a positive number of bytes, got ${options.highWaterMark}.`,
    )
  }
  const headers = new Headers(extra)
  headers.set('content-type', 'text/event-stream; charset=utf-8')
  // no-transform: compression middleware and proxies must not buffer the stream
  // (expressjs/compression#17, nestjs/nest#5762).
  headers.set(
    'cache-control',
    'private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
  )
  // nginx buffers proxied responses unless told otherwise (nginx/nginx#1505).
  headers.set('x-accel-buffering', 'no')
  // No `Connection` header: the runtime owns the connection, and HTTP/2 forbids the header.

  const sink = new ReadableStreamSink()
  const body = new ReadableStream<Uint8Array>(sink, {
    highWaterMark,
    // Optional for Bun's types, which declare the chunk so.
    size: (chunk?: Uint8Array) => chunk?.byteLength ?? 0,
  })
  const stream = new EventStream(sink, streamOptions)
  sink.stream = stream

  const { signal } = request
  const onAbort = (): void => {
    stream.close('client-closed')
    // The body is ended too, so a runtime that still reads it is not left waiting.
    sink.end()
  }
  if (signal.aborted) onAbort()
  else {
    signal.addEventListener('abort', onAbort, { once: true })
    // Whatever closes the stream, the request keeps no listener of it.
    stream.onClose(() => signal.removeEventListener('abort', onAbort))
  }
  return { response: new Response(body, { status: 200, headers }), stream }
}

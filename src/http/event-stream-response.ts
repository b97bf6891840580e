import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse, ServerHttp2Stream } from 'node:http2'
import { constants as http2Constants } from 'node:http2'
import type { Socket } from 'node:net'
import { type EventSink, EventStream, type EventStreamOptions } from '../core/event-stream.ts'

/** A request as Node's HTTP/1.1 server or HTTP/2 compatibility API hands it over. */
export type NodeRequest = IncomingMessage | Http2ServerRequest
/** A response of Node's HTTP/1.1 server or HTTP/2 compatibility API. */
export type NodeResponse = ServerResponse | Http2ServerResponse

/** Options for {@link openEventStream}: those of the core stream plus response headers. */
export interface OpenEventStreamOptions extends EventStreamOptions {
  /** Extra response headers (for example `Link` or CORS). Defaults to none. */
  headers?: OutgoingHttpHeaders
}

/**
 * Starts an SSE response on a Node HTTP/1.1 or HTTP/2 response and returns its stream. Headers
 * and the opening comment leave at once. When the client goes away (`close` or `error` on the
 * request or response), the stream closes with `client-closed` and releases everything it holds.
 */
export function openEventStream(
  req: NodeRequest,
  res: NodeResponse,
  options: OpenEventStreamOptions = {},
): EventStream {
  const http2 = req.httpVersionMajor === 2
  // On HTTP/1.1 the stream frames its own chunks and writes them straight to the socket (see
  // Http1DirectSink), so it says itself that the body is chunked, and the connection outlives
  // it. HTTP/1.0 has no chunked coding: Node ends that body by closing the connection, and says
  // so. HEAD has no body. RFC 9113 §8.2.2: connection-specific header fields are malformed in
  // HTTP/2.
  const framesItself = !http2 && req.httpVersion === '1.1' && req.method !== 'HEAD'
  const extra = options.headers
  // Without extra headers (most of a hub's streams), the head's fields are one shared object.
  const headers: OutgoingHttpHeaders =
    extra === undefined || Object.keys(extra).length === 0
      ? framesItself
        ? FRAMED_HEADERS
        : STREAM_HEADERS
      : { ...extra, ...(framesItself ? FRAMED_HEADERS : STREAM_HEADERS) }
  res.writeHead(200, headers)
  // Node keeps the head it sends (`_header`, HTTP/1.x only) for the response's whole life, built
  // by concatenation: in V8 a tree of some 20 strings of 32 bytes each. Reading a character
  // flattens it into one string, about 500 bytes less per open stream.
  const head = (res as { _header?: unknown })._header
  if (typeof head === 'string') head.charCodeAt(0)
  // Small SSE frames must not wait for Nagle's algorithm.
  req.socket.setNoDelay(true)
  // A response that does not own its socket yet (pipelined behind another) is written through
  // Node, which queues its bytes until the ones before it are done.
  const socket = framesItself ? (res as ServerResponse).socket : null

  const sink =
    socket !== null
      ? new Http1DirectSink(res as ServerResponse, socket)
      : http2
        ? new Http2Sink(res as Http2ServerResponse)
        : new Http1Sink(res as ServerResponse)
  const stream = new EventStream(sink, options)
  sink.stream = stream
  // The one closure an open stream keeps. The listeners stay after the stream closes: they go
  // with the request and response, and on a closed stream they do nothing.
  const onGone = (): void => stream.close('client-closed')
  res.on('close', onGone)
  res.on('error', onGone)
  req.on('error', onGone)
  return stream
}

/** The fields of every event stream's head; Node reads them, never changes them. */
const STREAM_HEADERS: OutgoingHttpHeaders = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  // no-transform: compression middleware and proxies must not buffer the stream
  // (expressjs/compression#17, nestjs/nest#5762).
  'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
  // nginx buffers proxied responses unless told otherwise (nginx/nginx#1505).
  'x-accel-buffering': 'no',
})
/** {@link STREAM_HEADERS} of a stream that frames its own chunks (HTTP/1.1). */
const FRAMED_HEADERS: OutgoingHttpHeaders = Object.freeze({
  ...STREAM_HEADERS,
  connection: 'keep-alive',
  'transfer-encoding': 'chunked',
})

/** Something that emits `'drain'`: the socket or the response a sink writes to. */
interface Drainable {
  once(event: 'drain', listener: () => void): unknown
}

// The sinks are classes, not object literals of closures: their methods live once, on the
// prototype, and an open stream costs one small object.

/** What every sink below shares: its stream, and whether it waits for a drain. */
abstract class NodeSink implements EventSink {
  /** The stream writing here, set right after it is created. */
  stream: EventStream | null = null
  #awaitingDrain = false

  abstract write(chunks: readonly Uint8Array[]): boolean
  abstract end(): void
  abstract destroy(): void

  /**
   * Resumes the stream on the next `'drain'` of `emitter`, after a write it refused. Listening
   * only then, not for the stream's whole life, keeps an idle response's listener table as Node
   * made it.
   */
  protected awaitDrain(emitter: Drainable): void {
    if (this.#awaitingDrain) return
    this.#awaitingDrain = true
    emitter.once('drain', () => {
      this.#awaitingDrain = false
      this.stream?.resume()
    })
  }
}

/** HTTP/1.x through Node's response (HTTP/1.0, HEAD, or a response queued behind another). */
class Http1Sink extends NodeSink {
  readonly #res: ServerResponse

  constructor(res: ServerResponse) {
    super()
    this.#res = res
  }

  write(chunks: readonly Uint8Array[]): boolean {
    const res = this.#res
    if (res.destroyed) return true
    let accepted = true
    if (chunks.length === 1) accepted = res.write(chunks[0] as Uint8Array)
    else {
      // Corked writes leave as one writev: one syscall per tick, whatever the number of events.
      res.cork()
      for (const chunk of chunks) accepted = res.write(chunk)
      res.uncork()
    }
    if (!accepted) this.awaitDrain(res)
    return accepted
  }

  end(): void {
    if (!this.#res.destroyed) this.#res.end()
  }

  destroy(): void {
    this.#res.destroy()
  }
}

/**
 * HTTP/1.1 without Node's per-write machinery: each batch is framed as one chunk of chunked
 * coding and written to the socket as one buffer. `res.write` would, for every call, cork the
 * socket, schedule an uncork, and write the size line, the data and two CRLFs as four buffers; at
 * one event per write (a paced fan-out) that was a fifth of the hub's CPU per delivery
 * (bench/latency.bench.ts: 9.2 -> 7.2 µs). The framed chunk is shared like the bytes it frames:
 * consecutive streams writing the same buffer write the same chunk. `res.end()` still writes the
 * last chunk, so the connection stays usable for the next request.
 */
class Http1DirectSink extends NodeSink {
  readonly #res: ServerResponse
  readonly #socket: Socket
  #headSent = false

  constructor(res: ServerResponse, socket: Socket) {
    super()
    this.#res = res
    this.#socket = socket
  }

  write(chunks: readonly Uint8Array[]): boolean {
    const socket = this.#socket
    if (socket.destroyed) return true
    let accepted = true
    if (!this.#headSent) {
      // The first batch (the opening comment) goes through Node, which sends the head with it in
      // one write, as latin1 (flushHeaders() would send it as UTF-8, garbling a UTF-8
      // Last-Event-ID echoed back): one packet and one syscall per connect, not two.
      this.#headSent = true
      const res = this.#res
      for (const chunk of chunks) if (chunk.byteLength > 0) accepted = res.write(chunk)
      if (!accepted) this.awaitDrain(res)
      return accepted
    }
    // An empty chunk would be the last-chunk marker and end the body early.
    for (const chunk of chunks) {
      if (chunk.byteLength === 0) continue
      if (chunk.byteLength <= FRAME_COPY_BYTES) {
        accepted = socket.write(framed(chunk))
        continue
      }
      // A large chunk is not copied into its frame: the size line, the data and the CRLF leave
      // as one writev. A copy per stream would cost a burst's size for every stream whose writes
      // do not follow another's (slow readers, catching up at their own pace).
      socket.cork()
      socket.write(`${chunk.byteLength.toString(16)}\r\n`, 'latin1')
      socket.write(chunk)
      accepted = socket.write(CRLF)
      socket.uncork()
    }
    // Writes to the socket directly are drained by the socket.
    if (!accepted) this.awaitDrain(socket)
    return accepted
  }

  end(): void {
    if (!this.#res.destroyed) this.#res.end()
  }

  destroy(): void {
    this.#res.destroy()
  }
}

/**
 * Chunks up to this size (the core's largest hand-off but for a lone larger update) are copied
 * into one framed buffer: one write. Larger ones are not copied, and leave as one writev, which
 * costs Node more per call than the copy does below this size.
 */
const FRAME_COPY_BYTES = 131_072
const CRLF = Buffer.from('\r\n', 'latin1')

let lastData: Uint8Array | undefined
let lastChunk: Buffer = Buffer.alloc(0)

/** `data` as one chunk of HTTP/1.1 chunked coding (RFC 9112 §7.1): size in hex, CRLF, data, CRLF. */
function framed(data: Uint8Array): Buffer {
  if (data === lastData) return lastChunk
  const size = `${data.byteLength.toString(16)}\r\n`
  const chunk = Buffer.allocUnsafe(size.length + data.byteLength + 2)
  chunk.write(size, 0, 'latin1')
  chunk.set(data, size.length)
  chunk.write('\r\n', size.length + data.byteLength, 'latin1')
  lastData = data
  lastChunk = chunk
  return chunk
}

/** HTTP/2, through the compatibility API. */
class Http2Sink extends NodeSink {
  readonly #res: Http2ServerResponse
  readonly #stream: ServerHttp2Stream

  constructor(res: Http2ServerResponse) {
    super()
    this.#res = res
    this.#stream = res.stream
  }

  write(chunks: readonly Uint8Array[]): boolean {
    const res = this.#res
    const stream = this.#stream
    if (stream.destroyed) return true
    let accepted = true
    if (chunks.length === 1) accepted = res.write(chunks[0] as Uint8Array)
    else {
      stream.cork()
      for (const chunk of chunks) accepted = res.write(chunk)
      stream.uncork()
    }
    if (!accepted) this.awaitDrain(res)
    return accepted
  }

  end(): void {
    if (!this.#stream.destroyed) this.#res.end()
  }

  destroy(): void {
    // RST_STREAM with CANCEL: the browser treats it as a network error and reconnects.
    if (!this.#stream.destroyed) this.#stream.close(http2Constants.NGHTTP2_CANCEL)
  }
}

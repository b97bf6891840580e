import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2'
import { constants as http2Constants } from 'node:http2'
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
  const headers: OutgoingHttpHeaders = {
    ...options.headers,
    'content-type': 'text/event-stream; charset=utf-8',
    // no-transform: compression middleware and proxies must not buffer the stream
    // (expressjs/compression#17, nestjs/nest#5762).
    'cache-control': 'private, no-cache, no-store, must-revalidate, max-age=0, no-transform',
    // nginx buffers proxied responses unless told otherwise (nginx/nginx#1505).
    'x-accel-buffering': 'no',
  }
  // RFC 9113 §8.2.2: connection-specific header fields are malformed in HTTP/2.
  if (!http2) headers.connection = 'keep-alive'
  res.writeHead(200, headers)
  // Small SSE frames must not wait for Nagle's algorithm.
  req.socket.setNoDelay(true)

  const sink = http2 ? http2Sink(res as Http2ServerResponse) : http1Sink(res as ServerResponse)
  const stream = new EventStream(sink, options)
  const onGone = (): void => stream.close('client-closed')
  const onDrain = (): void => stream.resume()
  res.on('drain', onDrain)
  res.on('close', onGone)
  res.on('error', onGone)
  req.on('error', onGone)
  stream.onClose(() => {
    res.off('drain', onDrain)
    res.off('error', onGone)
    req.off('error', onGone)
    // 'close' stays until it fires: a response emits it exactly once.
  })
  return stream
}

function http1Sink(res: ServerResponse): EventSink {
  return {
    write(chunks) {
      if (res.destroyed) return true
      if (chunks.length === 1) return res.write(chunks[0] as Uint8Array)
      // Corked writes leave as one writev: one syscall per tick, whatever the number of events.
      res.cork()
      let accepted = true
      for (const chunk of chunks) accepted = res.write(chunk)
      res.uncork()
      return accepted
    },
    end() {
      if (!res.destroyed) res.end()
    },
    destroy() {
      res.destroy()
    },
  }
}

function http2Sink(res: Http2ServerResponse): EventSink {
  const stream = res.stream
  return {
    write(chunks) {
      if (stream.destroyed) return true
      if (chunks.length === 1) return res.write(chunks[0] as Uint8Array)
      stream.cork()
      let accepted = true
      for (const chunk of chunks) accepted = res.write(chunk)
      stream.uncork()
      return accepted
    },
    end() {
      if (!stream.destroyed) res.end()
    },
    destroy() {
      // RST_STREAM with CANCEL: the browser treats it as a network error and reconnects.
      if (!stream.destroyed) stream.close(http2Constants.NGHTTP2_CANCEL)
    },
  }
}

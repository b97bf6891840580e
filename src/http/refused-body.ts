import type { EventEmitter } from 'node:events'
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http'
import { constants, type Http2ServerRequest } from 'node:http2'
import type { NodeRequest, NodeResponse } from './event-stream-response.ts'

/** Longest time, in milliseconds, the rest of a refused body is drained: `5000`. */
const DEFAULT_DRAIN_MS = 5000

/** Most bytes of the rest of a refused body that are drained: `16777216` (16 MiB). */
const DEFAULT_DRAIN_MAX_BYTES = 16 * 1024 * 1024

/** Options for {@link discardRefusedBody}. */
export interface RefusedBodyOptions {
  /**
   * Milliseconds, counted from the call, within which the rest of the body must have arrived;
   * then the HTTP/1.x connection is closed, or the HTTP/2 stream cancelled, whatever the client
   * is still doing. Defaults to `5000`.
   */
  timeoutMs?: number
  /**
   * Bytes of the rest of the body read and dropped at most; past them the HTTP/1.x connection is
   * closed once the answer is out, or the HTTP/2 stream cancelled. Defaults to `16777216` (16 MiB).
   */
  maxBytes?: number
  /**
   * Whether the HTTP/1.x connection is closed rather than kept for a next request: for a request
   * refused before its body was read (no token, a token that may not publish, a body too slow),
   * whose client the hub serves no further. The answer must then carry {@link closingHeaders}. An
   * HTTP/2 stream is reset either way. Defaults to `false`.
   */
  close?: boolean
}

/**
 * The headers an answer needs when its request's body is discarded with `close: true`:
 * `Connection: close` over HTTP/1.x; none over HTTP/2, which forbids the header (RFC 9113 §8.2.2).
 */
export function closingHeaders(req: NodeRequest): OutgoingHttpHeaders {
  return req.httpVersionMajor === 2 ? {} : { connection: 'close' }
}

/**
 * Disposes of the rest of a request body the server refused (a 413; with `close`, a 401, 403, 408
 * or 415 given before the body was read), right after the answer was written to `res`, so that
 * the client gets that answer rather than a reset connection.
 *
 * HTTP/1.x: the connection is kept and the rest of the body is read and dropped, never buffered.
 * When it ends within `timeoutMs` of the call and `maxBytes`, the connection serves the next
 * request as usual. Past `maxBytes` the connection is closed once the answer is out; at
 * `timeoutMs` it is closed, out or not.
 * HTTP/2: once the answer is sent, the stream is reset with `NO_ERROR`, which tells the client to
 * stop sending; the session and its other streams go on. What arrives meanwhile is dropped, with
 * the same bounds, past which the stream is reset with `CANCEL`.
 *
 * With `close: true` (HTTP/1.x), the answer carries `Connection: close` and the connection is
 * closed by a lingering close: the FIN goes out with the answer, the rest of the body is read and
 * dropped, and the socket is destroyed when the body ends, or at `timeoutMs` or `maxBytes`.
 *
 * Without it, the answer must not carry `Connection: close` (see `keepConnection` for why). Call it
 * with the request still being read: `readBody` keeps reading a body it refused. A request whose
 * body has already arrived whole is left alone.
 */
export function discardRefusedBody(
  req: NodeRequest,
  res: NodeResponse,
  options: RefusedBodyOptions = {},
): void {
  if (req.complete) return
  const timeoutMs = options.timeoutMs ?? DEFAULT_DRAIN_MS
  const maxBytes = options.maxBytes ?? DEFAULT_DRAIN_MAX_BYTES
  const { closes, answered, cut, cutAtEnd } =
    req.httpVersionMajor === 2
      ? resetStream(req as Http2ServerRequest)
      : options.close === true
        ? closeConnection(req as IncomingMessage, res)
        : keepConnection(req as IncomingMessage, res)
  // DoS guard: a client that never stops sending (or never takes the answer) holds the connection
  // or stream at most `timeoutMs`, and makes the hub read at most `maxBytes` more.
  let dropped = 0
  const stop = (): void => {
    clearTimeout(deadline)
    req.off('data', onData)
    req.off('end', ended)
    closes.off('close', stop)
  }
  const end = (): void => {
    stop()
    cut()
  }
  const ended = (): void => {
    if (!cutAtEnd) stop()
    else if (answered()) end()
    else res.once('finish', end)
  }
  const onData = (chunk: Buffer): void => {
    dropped += chunk.byteLength
    if (dropped <= maxBytes) return
    req.off('data', onData)
    if (answered()) end()
    else res.once('finish', end)
  }
  const deadline = setTimeout(end, timeoutMs)
  deadline.unref()
  req.on('data', onData)
  req.once('end', ended)
  closes.once('close', stop)
  req.resume()
}

/** How one protocol ends a refused request: what closes, whether the answer is out, the cut. */
interface Ending {
  closes: EventEmitter
  answered(): boolean
  cut(): void
  /** Whether the cut also comes once the body has ended (and the answer is out). */
  cutAtEnd: boolean
}

/** The HTTP/1.x form: keep the connection while the body drains; destroy it at a bound. */
function keepConnection(req: IncomingMessage, res: NodeResponse): Ending {
  const { socket } = req
  // Closing a socket with unread bytes makes the kernel send RST, and a client still uploading
  // (curl without `Expect`, PHP, Node's http: they write the whole body, then read) fails its
  // write and never reads the 413. [spec] RFC 9112 §9.6: "If a server performs an immediate close
  // of a TCP connection, there is a significant risk that the client will not be able to read the
  // last HTTP response." `Connection: close` is that immediate close in Node: its server destroys
  // the socket as soon as such an answer is written (10 to 40 of 100 publishes of 3 MiB were
  // reset). A half-close after a keep-alive answer is no better: a client's connection pool can
  // hand the connection to its next request before it sees our FIN, and that request is reset
  // (Node's global agent: one request in two). So the connection stays and the body drains: a
  // body that ends leaves a healthy connection; curl stops sending on the answer and closes it.
  return {
    closes: socket,
    answered: () => res.writableFinished,
    cut: () => socket.destroy(),
    cutAtEnd: false,
  }
}

/** The HTTP/1.x form that closes: a lingering close after a `Connection: close` answer. */
function closeConnection(req: IncomingMessage, res: NodeResponse): Ending {
  const { socket } = req
  // Node's server ends a `Connection: close` answer with `socket.destroySoon()`, a destroy as soon
  // as the FIN is out: with body bytes still unread that is a RST, and a client still uploading
  // loses the answer (see keepConnection; 69 of 100 clients writing 1 MB then reading got a reset
  // instead of a 401). So a lingering close, as nginx does it: only the FIN goes out after the
  // answer, what still arrives is dropped, never buffered, and the socket is destroyed once the
  // body has ended or at a bound. The connection serves no next request either way.
  socket.destroySoon = () => {
    socket.end()
  }
  return {
    closes: socket,
    answered: () => res.writableFinished,
    cut: () => socket.destroy(),
    cutAtEnd: true,
  }
}

/** The HTTP/2 form: reset the stream once the answer is out; never touch the session. */
function resetStream(req: Http2ServerRequest): Ending {
  const { stream } = req
  // [spec] RFC 9113 §8.1: "a server MAY request that the client abort transmission of a request
  // without error by sending a RST_STREAM with an error code of NO_ERROR after sending a complete
  // response (i.e., a frame with the END_STREAM flag set). Clients MUST NOT discard responses as
  // a result of receiving such a RST_STREAM". The answer is complete when the stream's writable
  // side finishes (the response's own 'finish' waits for the whole body: the compatibility API
  // emits it when the stream closes); Node then flushes the frames queued before the RST, which
  // nghttp2 would otherwise send first.
  const reset = (): void => {
    if (!stream.closed) stream.close(constants.NGHTTP2_NO_ERROR)
  }
  if (stream.writableFinished) reset()
  else stream.once('finish', reset)
  // A client that keeps its window shut never lets the answer finish, so never gets that RST: at
  // a bound, CANCEL now (before the bounds it went on uploading, 2 GiB in 8 s).
  const cut = (): void => {
    stream.off('finish', reset)
    if (stream.closed) stream.destroy()
    else stream.close(constants.NGHTTP2_CANCEL)
  }
  return { closes: stream, answered: () => true, cut, cutAtEnd: false }
}

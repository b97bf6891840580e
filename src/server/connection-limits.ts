import type { Server as HttpServer } from 'node:http'
import {
  constants,
  type Http2SecureServer,
  type Http2Session,
  type ServerHttp2Stream,
} from 'node:http2'
import type { Duplex } from 'node:stream'
import { type ClientErrorLog, classifyClientError } from './client-errors.ts'
import type { Logger } from './logger.ts'

/** The bounds a server puts on its connections (see {@link applyConnectionLimits}). */
export interface ConnectionLimits {
  /** Milliseconds for a request's headers to arrive, counted from its first byte (or the connection). */
  headersTimeoutMs: number
  /**
   * Milliseconds for a whole request to arrive, headers and body; `null` for no limit. Only the
   * request: a response may last as long as it likes, so an SSE subscription (a GET whose request
   * is complete once its headers are in) is never cut by it.
   */
  requestTimeoutMs: number | null
  /** Milliseconds an idle keep-alive connection, or an HTTP/2 session without streams, is kept. */
  keepAliveTimeoutMs: number
  /** Most open connections (TCP, HTTP/1.1 and HTTP/2 alike); `null` for no cap. */
  maxConnections: number | null
  /** Most concurrent streams per HTTP/2 connection: each subscription is one. */
  http2MaxStreams: number
}

/** Options for `createSecureServer` that carry the limits (they cannot be set afterwards). */
export function secureServerLimits(limits: ConnectionLimits): {
  settings: { maxConcurrentStreams: number }
  handshakeTimeout: number
} {
  // [spec] RFC 9113 §5.1.2: "Endpoints MUST NOT exceed the limit set by their peer. An endpoint
  // that receives a HEADERS frame that causes its advertised concurrent stream limit to be
  // exceeded MUST treat this as a stream error of type PROTOCOL_ERROR or REFUSED_STREAM."
  return {
    settings: { maxConcurrentStreams: limits.http2MaxStreams },
    handshakeTimeout: limits.headersTimeoutMs,
  }
}

/**
 * Puts `limits` on a server built with {@link secureServerLimits} (HTTP/2 with its HTTP/1.1
 * fallback) or a plain HTTP/1.1 server, and routes what clients get wrong to `clientErrors`.
 *
 * DoS guards: slowloris (headers or a body dribbled to hold a connection: cut at
 * `headersTimeoutMs` / `requestTimeoutMs`, 408), idle connections held open (`keepAliveTimeoutMs`),
 * one HTTP/2 connection carrying thousands of subscriptions (`http2MaxStreams`: the ones beyond
 * are refused with `REFUSED_STREAM`), and a connection flood (`maxConnections`: the ones beyond
 * are closed at accept, so the process keeps descriptors for the connections it serves). When
 * the process is out of descriptors anyway (EMFILE, ENFILE), new connections are closed at accept
 * by libuv and the server goes on; when Node reports it, that is logged once, and once when a
 * connection comes in again.
 */
export function applyConnectionLimits(
  server: HttpServer | Http2SecureServer,
  limits: ConnectionLimits,
  hooks: { logger: Logger; clientErrors: ClientErrorLog },
): void {
  const { logger, clientErrors } = hooks
  const http1 = server as HttpServer
  // Node's HTTP/1.x parser (also the HTTP/2 server's HTTP/1.1 fallback) checks these timeouts
  // every `connectionsCheckingInterval`, read when the server starts listening.
  http1.headersTimeout = limits.headersTimeoutMs
  http1.requestTimeout = limits.requestTimeoutMs ?? 0
  http1.keepAliveTimeout = limits.keepAliveTimeoutMs
  const shortest = Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs ?? Infinity)
  ;(http1 as { connectionsCheckingInterval?: number }).connectionsCheckingInterval = Math.max(
    50,
    Math.min(1000, Math.floor(shortest / 4)),
  )
  if (limits.maxConnections !== null) server.maxConnections = limits.maxConnections
  server.on('drop', () => clientErrors.count('refused'))

  // Node answers these itself (400, 408, 431) when nobody listens; listening, we must too.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    const kind = classifyClientError(error) ?? 'malformed'
    clientErrors.count(kind)
    const response = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage
    if (socket.writable && response?.headersSent !== true) {
      const status =
        kind === 'timeout'
          ? '408 Request Timeout'
          : error.code === 'HPE_HEADER_OVERFLOW'
            ? '431 Request Header Fields Too Large'
            : error.code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW'
              ? '413 Payload Too Large'
              : '400 Bad Request'
      if (kind !== 'reset' && kind !== 'aborted') {
        socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
      }
    }
    socket.destroy()
  })
  server.on('tlsClientError', () => clientErrors.count('tls'))
  server.on('sessionError', () => clientErrors.count('reset'))

  // Node reports every refused accept: one line when the descriptors run out, one with the count
  // when a connection comes in again, as the hub logs a store's outage (a log line per refused
  // connection would fill the disk of a server that is already short of resources).
  let refusedAccepts = 0
  let outageSince = 0
  server.on('error', (error: NodeJS.ErrnoException) => {
    // Before it listens, `listen()` reports the error.
    if (!server.listening) return
    if (error.code !== 'EMFILE' && error.code !== 'ENFILE') {
      logger.error({ err: error }, 'server error')
      return
    }
    if (refusedAccepts++ > 0) return
    outageSince = Date.now()
    logger.error(
      { err: error },
      'cannot accept connections: out of file descriptors; new connections are closed (logged once until it recovers)',
    )
  })
  server.on('connection', () => {
    if (refusedAccepts === 0) return
    logger.info(
      { failures: refusedAccepts, seconds: Math.round((Date.now() - outageSince) / 1000) },
      `accepting connections again after ${refusedAccepts} failure(s)`,
    )
    refusedAccepts = 0
  })

  server.on('session', (session: Http2Session) => watchSession(session, limits))
  const requestTimeoutMs = limits.requestTimeoutMs
  if (requestTimeoutMs !== null) {
    server.on('stream', (stream: ServerHttp2Stream) =>
      watchRequest(stream, requestTimeoutMs, clientErrors),
    )
  }
}

/** The idle timer of one HTTP/2 session (see {@link watchSession}). */
interface SessionWatch {
  readonly session: Http2Session
  readonly keepAliveTimeoutMs: number
  streams: number
  idle: ReturnType<typeof setTimeout> | null
}

/** Where a stream finds its session's watch once closed (its `session` is gone by then). */
const WATCH = Symbol('ssehub.sessionWatch')
type WatchedStream = ServerHttp2Stream & { [WATCH]?: SessionWatch | undefined }

/**
 * The HTTP/2 form of the headers and keep-alive timeouts: a session must open its first stream
 * within `headersTimeoutMs` (a client that connects and sends nothing, or dribbles a HEADERS
 * block, holds no stream), and one without streams is closed (GOAWAY) after `keepAliveTimeoutMs`.
 * A session with an open subscription is never idle.
 */
function watchSession(session: Http2Session, limits: ConnectionLimits): void {
  const watch: SessionWatch = {
    session,
    keepAliveTimeoutMs: limits.keepAliveTimeoutMs,
    streams: 0,
    idle: null,
  }
  armIdle(watch, limits.headersTimeoutMs)
  session.on('stream', (stream: WatchedStream) => {
    watch.streams++
    if (watch.idle !== null) clearTimeout(watch.idle)
    watch.idle = null
    // One shared listener and a property, not a closure per stream: a subscription lives long.
    stream[WATCH] = watch
    stream.on('close', onWatchedStreamClose)
  })
  session.once('close', () => {
    if (watch.idle !== null) clearTimeout(watch.idle)
  })
}

function onWatchedStreamClose(this: WatchedStream): void {
  const watch = this[WATCH]
  if (watch === undefined) return
  this[WATCH] = undefined
  watch.streams--
  if (watch.streams === 0 && !watch.session.closed) armIdle(watch, watch.keepAliveTimeoutMs)
}

function armIdle(watch: SessionWatch, ms: number): void {
  watch.idle = setTimeout(() => {
    if (!watch.session.closed && !watch.session.destroyed) watch.session.close()
  }, ms)
  watch.idle.unref()
}

/**
 * The HTTP/2 form of the request timeout: a stream whose request body has not ended within
 * `timeoutMs` is answered 408 (or cancelled, if its answer has started). A request without a
 * body (a GET, an SSE subscription) ends with its headers and is never watched.
 */
function watchRequest(
  stream: ServerHttp2Stream,
  timeoutMs: number,
  clientErrors: ClientErrorLog,
): void {
  if (stream.endAfterHeaders) return
  const timer = setTimeout(() => {
    if (stream.closed || stream.destroyed || stream.state.remoteClose === 1) return
    clientErrors.count('timeout')
    if (stream.headersSent) {
      stream.close(constants.NGHTTP2_CANCEL)
      return
    }
    stream.respond({ ':status': 408, 'content-type': 'text/plain; charset=utf-8' })
    stream.end('The request body did not arrive in time.\n')
    // [spec] RFC 9113 §8.1: after a complete response, RST_STREAM NO_ERROR asks the client to
    // stop sending without making it discard the response.
    stream.once('finish', () => {
      if (!stream.closed) stream.close(constants.NGHTTP2_NO_ERROR)
    })
  }, timeoutMs)
  timer.unref()
  stream.once('close', () => clearTimeout(timer))
}

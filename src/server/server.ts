import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
} from 'node:http'
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2'
import type { AddressInfo } from 'node:net'
import { createChatApi } from '../apps/chat-api.ts'
import type { EventStream, EventStreamCloseReason } from '../core/event-stream.ts'
import { createHeartbeat, DEFAULT_HEARTBEAT_MS, type Heartbeat } from '../core/heartbeat.ts'
import { type ClockDemo, createClockDemo } from '../demos/clock.ts'
import {
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
} from './event-stream-response.ts'
import { type Logger, silentLogger } from './logger.ts'
import { createMercureApp, type MercureApp, type MercureAppOptions } from './mercure-app.ts'
import { HUB_PATH } from './mercure-handler.ts'
import type { Metrics } from './metrics.ts'
import { sendText } from './send-text.ts'
import { serveStatic, WEB_ROOT } from './static-files.ts'

/** Options for {@link createSsehubServer}. */
export interface SsehubServerOptions {
  /** Where logs go. Defaults to a silent logger. */
  logger?: Logger
  /** Milliseconds between keep-alive comments on every stream, `null` for none. Defaults to `15000`. */
  heartbeatMs?: number | null
  /**
   * Bound, in bytes, of what one client failed to take before it is cut (see
   * `EventStreamOptions.maxQueueBytes`); a hub subscriber past half of it catches up from the
   * history instead. Defaults to `1048576`.
   */
  maxQueueBytes?: number
  /**
   * Milliseconds a client may take nothing while data waits for it before it is cut (see
   * `EventStreamOptions.stallTimeoutMs`); `null` for no limit. Defaults to `30000`.
   */
  stallTimeoutMs?: number | null
  /**
   * Certificate and key (PEM) to serve HTTPS with HTTP/2, falling back to HTTP/1.1 for clients
   * that do not speak it. Without them the server speaks plain HTTP/1.1. Defaults to none.
   */
  tls?: { cert: string | Buffer; key: string | Buffer } | null
  /** Milliseconds between two clock-demo messages. Defaults to `500`. */
  clockIntervalMs?: number
  /** Folder of the static pages. Defaults to the package's `web/`. */
  webRoot?: string
  /** Milliseconds `close()` waits for connections to finish before cutting them. Defaults to `2000`. */
  shutdownGraceMs?: number
  /** The Mercure hub at `/.well-known/mercure`, or `null` for none. Defaults to `null`. */
  mercure?: MercureAppOptions | null
  /** Prometheus metrics served at `/metrics`, or `null` for none. Defaults to `null`. */
  metrics?: Metrics | null
  /**
   * The chat app at `/apps/chat/`: needs the hub, with subscription events on (for presence), and
   * a key to sign members' tokens (the subscriber key: a secret or a PEM private key). `null` for
   * none. Defaults to `null`.
   */
  chat?: { signingKey: string } | null
}

/** A running ssehub server. */
export interface SsehubServer {
  /** The underlying Node server. */
  readonly server: HttpServer | Http2SecureServer
  /** The shared heartbeat, or `null` when disabled. */
  readonly heartbeat: Heartbeat | null
  /** The clock demo (for its count of running clocks). */
  readonly clock: ClockDemo
  /** How many event streams are open. */
  readonly openStreams: number
  /** The Mercure hub, when mounted. */
  readonly mercure: MercureApp | null
  /** Starts listening; resolves with the bound address and a base URL. */
  listen(port?: number, host?: string): Promise<{ port: number; host: string; url: string }>
  /**
   * Graceful shutdown: stops accepting, ends every stream cleanly (clients reconnect elsewhere
   * with their last id), then closes connections. Resolves when the port is free.
   */
  close(): Promise<void>
}

/** Creates the ssehub HTTP server: landing page, demos, health. */
export function createSsehubServer(options: SsehubServerOptions = {}): SsehubServer {
  const logger = options.logger ?? silentLogger()
  const heartbeatMs = options.heartbeatMs === undefined ? DEFAULT_HEARTBEAT_MS : options.heartbeatMs
  const heartbeat = heartbeatMs === null ? null : createHeartbeat({ intervalMs: heartbeatMs })
  const webRoot = options.webRoot ?? WEB_ROOT
  const clockOptions =
    options.clockIntervalMs === undefined ? {} : { intervalMs: options.clockIntervalMs }
  const clock = createClockDemo(clockOptions)
  // Each open stream, with its request path for the log line when it closes.
  const streams = new Map<EventStream, string | undefined>()
  const sessions = new Set<Http2Session>()
  const isTls = options.tls != null
  let closing = false

  // One listener for every stream: a closure per stream would stay alive as long as the stream.
  const onStreamClose = (reason: EventStreamCloseReason, stream: EventStream): void => {
    const path = streams.get(stream)
    streams.delete(stream)
    if (reason === 'overflow') {
      logger.warn({ reason, path }, 'disconnected a client that failed to take its bytes')
    } else if (reason === 'stalled') {
      logger.warn({ reason, path }, 'disconnected a client that stopped reading')
    } else if (reason === 'error') {
      logger.warn({ reason, path }, 'disconnected a client after a write error')
    } else {
      logger.debug({ reason, path }, 'stream closed')
    }
  }

  const openStream = (
    req: NodeRequest,
    res: NodeResponse,
    extra: OpenEventStreamOptions = {},
  ): EventStream => {
    const streamOptions: OpenEventStreamOptions = { heartbeat, ...extra }
    if (options.maxQueueBytes !== undefined) streamOptions.maxQueueBytes = options.maxQueueBytes
    if (options.stallTimeoutMs !== undefined) streamOptions.stallTimeoutMs = options.stallTimeoutMs
    const stream = openEventStream(req, res, streamOptions)
    streams.set(stream, req.url)
    // Every header the hub and the apps use (token, cookie, origin, Last-Event-ID) is read
    // before the stream opens, and Node keeps the request for the whole life of the response:
    // dropping its header list and object frees about 0.4 KiB per open stream (the idle bench's
    // heap per subscriber went from 6.82 to 6.45 KiB). HTTP/1 only: HTTP/2's come from the stream.
    if (req.httpVersionMajor === 1) {
      const request = req as IncomingMessage
      request.rawHeaders = []
      request.headers = {}
    }
    stream.onClose(onStreamClose)
    return stream
  }

  const mercure = options.mercure
    ? createMercureApp(
        { ...options.mercure, metrics: options.mercure.metrics ?? options.metrics ?? null },
        {
          logger,
          openStream: (req, res, headers) => openStream(req, res, { headers }),
          closing: () => closing,
        },
      )
    : null
  const metrics = options.metrics ?? null
  const chat =
    mercure && options.chat
      ? createChatApi({
          hub: mercure.hub,
          signingKey: options.chat.signingKey,
          verifier: mercure.subscriberVerifier,
          cookieName: options.mercure?.cookieName ?? 'mercureAuthorization',
        })
      : null
  // [spec] Mercure discovery: "Link: <…/.well-known/mercure>; rel="mercure"" on the resources.
  const discovery = mercure ? { link: `<${HUB_PATH}>; rel="mercure"` } : {}

  const route = async (req: NodeRequest, res: NodeResponse): Promise<void> => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      sendText(res, 400, 'The request target is not a valid URL.\n')
      return
    }
    const path = url.pathname
    const method = req.method ?? 'GET'
    if (path === '/healthz') {
      sendText(res, 200, 'ok\n')
      return
    }
    if (path === '/readyz') {
      const ready = closing
        ? false
        : mercure
          ? await mercure.store.ready().catch(() => false)
          : true
      sendText(
        res,
        ready ? 200 : 503,
        ready ? 'ready\n' : 'not ready: the store is unreachable or the server is stopping\n',
      )
      return
    }
    if (path === '/metrics' && metrics) {
      const body = await metrics.registry.metrics()
      res.writeHead(200, {
        'content-type': metrics.registry.contentType,
        'cache-control': 'no-store',
      })
      res.end(body)
      return
    }
    if (mercure && (await mercure.handle(req, res, url))) return
    if (chat && (await chat(req, res, url))) return
    if (path === '/demo/clock/stream') {
      if (method !== 'GET') {
        sendText(res, 405, 'Use GET to subscribe to the clock stream.\n', { allow: 'GET' })
        return
      }
      if (closing) {
        sendText(res, 503, 'The server is shutting down; reconnect shortly.\n', {
          'retry-after': '1',
        })
        return
      }
      clock.start(openStream(req, res, { headers: discovery }))
      return
    }
    if (method !== 'GET' && method !== 'HEAD') {
      sendText(res, 405, `${method} is not allowed on ${path}.\n`, { allow: 'GET, HEAD' })
      return
    }
    if (path === '/demo/clock' || path === '/demo') {
      res.writeHead(308, { location: `${path}/` })
      res.end()
      return
    }
    if (await serveStatic(res, path, discovery, webRoot)) return
    sendText(res, 404, `Nothing here: ${path}. Start at /.\n`)
  }

  const handler = (req: NodeRequest, res: NodeResponse): void => {
    route(req, res).catch((error: unknown) => {
      logger.error({ err: error, path: req.url }, 'request failed')
      if (!res.headersSent) sendText(res, 500, 'Internal error.\n')
      else res.destroy?.()
    })
  }

  const server: HttpServer | Http2SecureServer = options.tls
    ? createSecureServer(
        { cert: options.tls.cert, key: options.tls.key, allowHTTP1: true },
        handler,
      )
    : createHttpServer(handler)
  if (!isTls) (server as HttpServer).keepAliveTimeout = 5000
  server.on('session', (session: Http2Session) => {
    sessions.add(session)
    session.once('close', () => sessions.delete(session))
  })

  return {
    server,
    heartbeat,
    clock,
    get openStreams() {
      return streams.size
    },
    mercure,
    listen(port = 0, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        const onError = (error: Error): void => reject(error)
        server.once('error', onError)
        server.listen(port, host, () => {
          server.off('error', onError)
          const address = server.address() as AddressInfo
          const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
          resolve({
            port: address.port,
            host: address.address,
            url: `${isTls ? 'https' : 'http'}://${shown}:${address.port}`,
          })
        })
      })
    },
    async close() {
      closing = true
      mercure?.close()
      const closed = new Promise<void>((resolve) => {
        server.close(() => resolve())
      })
      for (const stream of [...streams.keys()]) stream.close('server-closed')
      for (const session of sessions) session.close()
      if (!isTls) (server as HttpServer).closeIdleConnections()
      const grace = setTimeout(() => {
        if (!isTls) (server as HttpServer).closeAllConnections()
        for (const session of sessions) session.destroy()
      }, options.shutdownGraceMs ?? 2000)
      grace.unref()
      await closed
      clearTimeout(grace)
    },
  }
}

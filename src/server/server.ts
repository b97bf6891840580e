import {
  createServer as createHttpServer,
  type Server as HttpServer,
  type IncomingMessage,
} from 'node:http'
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2'
import { type ChatProtocol, createChatApi } from '../apps/chat-api.ts'
import { type ClockDemo, createClockDemo } from '../demos/clock.ts'
import {
  createHeartbeat,
  DEFAULT_HEARTBEAT_MS,
  type EventStream,
  type EventStreamCloseReason,
  type Heartbeat,
} from '../index.ts'
import {
  createMercureHandler,
  deferContinue,
  HUB_PATH,
  type MercureHandler,
  type MercureHandlerOptions,
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
  parseRequestTarget,
  sendText,
} from '../node/index.ts'
import { createAdminDashboard } from './admin-dashboard.ts'
import { bindServer, type ListenAddress } from './bind-server.ts'
import { classifyClientError, createClientErrorLog } from './client-errors.ts'
import { combineMetrics } from './combined-metrics.ts'
import {
  applyConnectionLimits,
  type ConnectionLimits,
  secureServerLimits,
} from './connection-limits.ts'
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HTTP2_MAX_STREAMS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './defaults.ts'
import { type Logger, silentLogger } from './logger.ts'
import type { Metrics } from './metrics.ts'
import { createOperationsHandler, createOperationsServer } from './operations.ts'
import { type PresenceWebhookOptions, serverWebhooks } from './presence-webhooks.ts'
import { registeredTracer } from './registered-tracer.ts'
import { shutDown } from './shutdown.ts'
import { serveStatic, WEB_ROOT } from './static-files.ts'

/**
 * The hub the server mounts: the options of `ssehub/node`'s `createMercureHandler`, but for those
 * the server sets itself for every stream it serves (`heartbeatMs`, `maxQueueBytes`,
 * `stallTimeoutMs`, `logger`) and its hooks. Configuration errors name the keys by the CLI's
 * settings unless `keyNames` says otherwise.
 */
export type ServerHubOptions = Omit<
  MercureHandlerOptions,
  | 'heartbeatMs'
  | 'heartbeat'
  | 'maxQueueBytes'
  | 'stallTimeoutMs'
  | 'logger'
  | 'onStream'
  | 'onError'
>

/** How configuration errors name the hub's keys: by the CLI's settings. */
const CLI_KEY_NAMES = {
  publisher: 'SSEHUB_PUBLISHER_JWT_KEY',
  subscriber: 'SSEHUB_SUBSCRIBER_JWT_KEY',
}

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
  mercure?: ServerHubOptions | null
  /**
   * The token that turns the live dashboard at `/admin/` on (see docs/dashboard.md), or `null`
   * for none: every `/admin/` path is then `404`. Defaults to `null`.
   */
  adminToken?: string | null
  /** Presence webhooks (see docs/webhooks.md), or `null` for none. Defaults to `null`. */
  webhooks?: PresenceWebhookOptions | null
  /** Prometheus metrics served at `/metrics`, or `null` for none. Defaults to `null`. */
  metrics?: Metrics | null
  /**
   * A token `/metrics` then requires as `Authorization: Bearer` (compared in constant time;
   * `401` without it), or `null` to serve the metrics to anyone who reaches the port. Defaults
   * to `null`.
   */
  metricsToken?: string | null
  /**
   * Another address (plain HTTP/1.1) serving `/metrics`, `/healthz` and `/readyz`, and then
   * `/metrics` is not served on the main port: keep it on a private interface. Port `0` picks a
   * free port (see `listen()`'s result). `null` serves `/metrics` on the main port. Defaults to
   * `null`.
   */
  metricsListen?: { host: string; port: number } | null
  /**
   * Largest request head (request line, URL and headers together), in bytes. Over HTTP/1.1 a
   * request past it gets `431`; HTTP/2 advertises it as `SETTINGS_MAX_HEADER_LIST_SIZE` and
   * resets a stream past it. Set on every server explicitly, so `--max-http-header-size` in
   * `NODE_OPTIONS` does not change it unnoticed. Defaults to `16384` (Node's own default).
   */
  maxHeaderBytes?: number
  /**
   * The chat app at `/apps/chat/`: needs the hub, with subscription events on (for presence), and
   * a key to sign members' tokens (the subscriber key: a secret or a PEM private key); `protocol`
   * is the Mercure protocol of those tokens and of the page's subscription (defaults to `'1.0'`).
   * `null` for none. Defaults to `null`.
   */
  chat?: { signingKey: string; allowedHosts?: readonly string[]; protocol?: ChatProtocol } | null
  /**
   * Milliseconds for a request's headers to arrive, and over HTTP/2 for a new connection's first
   * request; then `408` and the connection is closed (slowloris guard). Defaults to `10000`.
   */
  headersTimeoutMs?: number
  /**
   * Milliseconds for a whole request, headers and body, to arrive; then `408` and the connection
   * is closed (the HTTP/2 stream reset). Only the request: an SSE subscription is a GET, whole
   * once its headers are in, and its response lives on. `null` for no limit. Defaults to `30000`.
   */
  requestTimeoutMs?: number | null
  /**
   * Milliseconds an idle keep-alive connection, or an HTTP/2 connection without streams, is kept
   * open. Defaults to `5000`.
   */
  keepAliveTimeoutMs?: number
  /**
   * Most open connections, HTTP/1.1 and HTTP/2 alike (each HTTP/2 session is one); those beyond
   * are closed at accept. `null` for no cap. Defaults to `null` (the CLI sizes it under the
   * open-files limit).
   */
  maxConnections?: number | null
  /**
   * Most concurrent streams per HTTP/2 connection (`SETTINGS_MAX_CONCURRENT_STREAMS`): every
   * subscription is one, so one connection holds at most this many; a client's further requests
   * wait for a stream to close, and streams beyond it sent anyway are refused. Defaults to `100`.
   */
  http2MaxStreams?: number
  /**
   * Milliseconds over which client errors (aborted uploads, resets, timeouts, malformed requests,
   * refused connections, cut streams) are counted into one log line. Defaults to `10000`.
   */
  clientErrorLogIntervalMs?: number
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
  readonly mercure: MercureHandler | null
  /**
   * Starts listening (and the metrics listener, when `metricsListen` is set); resolves with the
   * bound addresses and their base URLs.
   */
  listen(port?: number, host?: string): Promise<ListenAddress & { metrics: ListenAddress | null }>
  /**
   * Graceful shutdown: stops accepting, ends every stream cleanly (clients reconnect elsewhere
   * with their last id), then closes connections. Resolves when the port is free.
   */
  close(): Promise<void>
}

export type { ListenAddress }

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
  const clientErrors = createClientErrorLog({
    logger,
    ...(options.clientErrorLogIntervalMs === undefined
      ? {}
      : { intervalMs: options.clientErrorLogIntervalMs }),
  })
  const limits: ConnectionLimits = {
    headersTimeoutMs: options.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS,
    requestTimeoutMs:
      options.requestTimeoutMs === undefined
        ? DEFAULT_REQUEST_TIMEOUT_MS
        : options.requestTimeoutMs,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
    maxConnections: options.maxConnections ?? null,
    http2MaxStreams: options.http2MaxStreams ?? DEFAULT_HTTP2_MAX_STREAMS,
  }

  // One listener for every stream: a closure per stream would stay alive as long as the stream.
  const onStreamClose = (reason: EventStreamCloseReason, stream: EventStream): void => {
    const path = streams.get(stream)
    streams.delete(stream)
    // Counted into the periodic client-errors line: a thousand clients that stop reading must
    // not make a thousand warnings.
    if (reason === 'overflow') {
      clientErrors.count('overflow')
      logger.debug({ reason, path }, 'disconnected a client that failed to take its bytes')
    } else if (reason === 'stalled') {
      clientErrors.count('stalled')
      logger.debug({ reason, path }, 'disconnected a client that stopped reading')
    } else if (reason === 'error') {
      clientErrors.count('reset')
      logger.debug({ reason, path }, 'disconnected a client after a write error')
    } else {
      logger.debug({ reason, path }, 'stream closed')
    }
  }

  // Every stream the server serves, the hub's and the clock's, is tracked: for `openStreams`, for
  // the shutdown, and for its log line when it closes.
  const track = (stream: EventStream, req: NodeRequest): void => {
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
  }
  const streamBounds: { maxQueueBytes?: number; stallTimeoutMs?: number | null } = {}
  if (options.maxQueueBytes !== undefined) streamBounds.maxQueueBytes = options.maxQueueBytes
  if (options.stallTimeoutMs !== undefined) streamBounds.stallTimeoutMs = options.stallTimeoutMs

  const openStream = (
    req: NodeRequest,
    res: NodeResponse,
    extra: OpenEventStreamOptions = {},
  ): EventStream => {
    const stream = openEventStream(req, res, { heartbeat, ...extra, ...streamBounds })
    track(stream, req)
    return stream
  }

  // A request that failed: a bug is logged; an aborted upload or a reset is the client's doing,
  // counted rather than a stack trace each. Over HTTP/1 its connection's 'clientError' has
  // counted it already.
  const reportFailure = (error: unknown, req: NodeRequest): void => {
    const kind = classifyClientError(error)
    if (kind === null) logger.error({ err: error, path: req.url }, 'request failed')
    else if (req.httpVersionMajor === 2) clientErrors.count(kind)
  }

  // The dashboard at /admin/ (404 without a token); its statistics observe the hub.
  const admin = createAdminDashboard({
    token: options.adminToken ?? null,
    hub: () => mercure,
    openStream,
    webRoot,
    tls: isTls,
    closing: () => closing,
  })
  const webhooks = serverWebhooks(options, logger)
  // The hub is ssehub/node's handler, as any app would mount it; its streams share the server's
  // heartbeat and bounds, and are tracked with the others.
  const mercure: MercureHandler | null = options.mercure
    ? createMercureHandler({
        ...options.mercure,
        keyNames: options.mercure.keyNames ?? CLI_KEY_NAMES,
        tracer: registeredTracer(options.mercure.tracer),
        metrics: combineMetrics([
          options.mercure.metrics ?? options.metrics,
          admin.metrics,
          webhooks,
        ]),
        ...(heartbeat === null ? { heartbeatMs: null } : { heartbeat }),
        ...streamBounds,
        logger,
        onStream: track,
        onError: reportFailure,
      })
    : null
  const metrics = options.metrics ?? null
  const maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES
  if (!Number.isInteger(maxHeaderBytes) || maxHeaderBytes < 1024) {
    throw new RangeError(
      `maxHeaderBytes must be a whole number of at least 1024, got ${maxHeaderBytes}.`,
    )
  }
  const metricsListen = options.metricsListen ?? null
  const operationsOptions = {
    metrics,
    metricsToken: options.metricsToken ?? null,
    // The store's ready() takes a write (a probe), not only a read: a disk that fills up or a
    // file gone read-only makes every publish fail while reads still work.
    ready: async () => !closing && (mercure === null || (await mercure.store.ready())),
  }
  const operations = createOperationsHandler({
    ...operationsOptions,
    serveMetrics: metricsListen === null,
  })
  const operationsServer =
    metricsListen === null
      ? null
      : createOperationsServer(
          createOperationsHandler({ ...operationsOptions, serveMetrics: true }),
          maxHeaderBytes,
          (error) => logger.error({ err: error }, 'operations request failed'),
        )
  const chat =
    mercure && options.chat
      ? createChatApi({
          hub: mercure.hub,
          signingKey: options.chat.signingKey,
          ...(options.chat.allowedHosts ? { allowedHosts: options.chat.allowedHosts } : {}),
          verify: (token) => mercure.verifySubscriberToken(token),
          // Unset, the chat picks the cookie name the hub reads for its protocol and scheme.
          cookieName: options.mercure?.cookieName,
          resourceIdentifier: options.mercure?.resourceIdentifier,
          ...(options.chat.protocol ? { protocol: options.chat.protocol } : {}),
        })
      : null
  // [spec] Mercure discovery: "Link: <…/.well-known/mercure>; rel="mercure"" on the resources.
  const discovery = mercure ? { link: `<${HUB_PATH}>; rel="mercure"` } : {}

  const route = async (req: NodeRequest, res: NodeResponse): Promise<void> => {
    // Parsed once: the hub's handler gets the same URL back (request-target.ts).
    const url = parseRequestTarget(req.url ?? '/')
    if (url === null) {
      sendText(res, 400, 'The request target is not a valid URL.\n')
      return
    }
    const path = url.pathname
    const method = req.method ?? 'GET'
    // The hub's own path is no other route's: a publish goes straight to the hub, without the
    // two awaits (promises, microtask turns) of the routes that would not take it.
    if (path === HUB_PATH && mercure && (await mercure(req, res))) return
    if (await operations(req, res, path)) return
    if (await admin.handle(req, res, path)) return
    // Every path and method goes to the hub before the other routes: it answers outside its own
    // path too (the protected resource metadata, /.well-known/oauth-protected-resource/…) and
    // takes QUERY subscriptions; it resolves false for what is not its.
    if (mercure && (await mercure(req, res))) return
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
      reportFailure(error, req)
      if (!res.headersSent) sendText(res, 500, 'Internal error.\n')
      else res.destroy?.()
    })
  }

  const server: HttpServer | Http2SecureServer = options.tls
    ? createSecureServer(
        {
          cert: options.tls.cert,
          key: options.tls.key,
          allowHTTP1: true,
          ...secureServerLimits(limits),
          settings: {
            maxHeaderListSize: maxHeaderBytes,
            ...secureServerLimits(limits).settings,
          },
        },
        handler,
      )
    : createHttpServer({ maxHeaderSize: maxHeaderBytes }, handler)
  // HTTP/1.1 over TLS: Node's HTTP/1 connection handler reads the bound from the server object.
  if (isTls) (server as unknown as { maxHeaderSize: number }).maxHeaderSize = maxHeaderBytes
  applyConnectionLimits(server, limits, { logger, clientErrors })
  // `Expect: 100-continue`: the 100 waits for the first read of the body (http/expect-continue.ts).
  server.on('checkContinue', (req: NodeRequest, res: NodeResponse) => {
    deferContinue(req, () => res.writeContinue())
    handler(req, res)
  })
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
    async listen(port = 0, host = '127.0.0.1') {
      const main = await bindServer(server, port, host, isTls ? 'https' : 'http')
      if (operationsServer === null || metricsListen === null) return { ...main, metrics: null }
      try {
        const address = await bindServer(
          operationsServer,
          metricsListen.port,
          metricsListen.host,
          'http',
        )
        return { ...main, metrics: address }
      } catch (error) {
        await new Promise((resolve) => server.close(resolve))
        throw error
      }
    },
    async close() {
      closing = true
      admin.close()
      await shutDown({
        server,
        isTls,
        streams: streams.keys(),
        sessions,
        operationsServer,
        graceMs: options.shutdownGraceMs ?? 2000,
        also: mercure?.close(),
      })
      await webhooks?.close() // After the hub: its subscribers' unsubscribe events are queued.
      clientErrors.flush()
    },
  }
}

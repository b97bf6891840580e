import { createHeartbeat } from '../core/heartbeat.ts'
import {
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
} from '../http/event-stream-response.ts'
import type { HubLogger } from '../http/hub-logger.ts'
import { createMercureHandler as createProtocolHandler } from '../http/mercure-handler.ts'
import { createMercureService, type MercureServiceOptions } from '../http/mercure-service.ts'
import { sendText } from '../http/send-text.ts'
import type { EventStore } from '../hub/event-store.ts'
import type { Hub } from '../hub/hub.ts'
import { createMemoryStore } from '../storage/memory.ts'
import { consoleLogger, silentLogger } from '../web/console-logger.ts'

/**
 * Options for {@link createMercureHandler}: a key, and whatever differs from the defaults. The
 * hub's bounds (`maxBodyBytes`, `publishLimits`, `subscriptionLimits`, `maxLifetimeMs`, …) are
 * those of the `ssehub` server and of `ssehub/web`, with the same defaults.
 */
export interface MercureHandlerOptions
  extends Omit<MercureServiceOptions, 'store' | 'publisherKey' | 'subscriberKey' | 'keyNames'> {
  /**
   * The key verifying publishers' and subscribers' tokens: a shared secret (at least 32 bytes for
   * HS256), a PEM public key or certificate, or a JWKS URL or `.json` file. Required unless both
   * `publisherKey` and `subscriberKey` are given.
   */
  key?: string | undefined
  /** The key verifying publishers' tokens, when it is not `key`. Defaults to `key`. */
  publisherKey?: string | undefined
  /** The key verifying subscribers' tokens, when it is not `key`. Defaults to `key`. */
  subscriberKey?: string | undefined
  /**
   * Where updates are committed and the history is read: the memory store of `ssehub/hub`, a
   * store of `ssehub/storage/sqlite` or `ssehub/storage/redis`, or your own `EventStore`. A store
   * you pass stays yours: `close()` leaves it open. Defaults to a memory store (the newest 100,000
   * updates, for the life of the process), which `close()` closes.
   */
  store?: EventStore | undefined
  /** Milliseconds between keep-alive comments on every stream, `null` for none. Defaults to `15000`. */
  heartbeatMs?: number | null
  /**
   * Bound, in bytes, of what one client failed to take before it is cut; a subscriber past half
   * of it catches up from the history instead. Defaults to `1048576`.
   */
  maxQueueBytes?: number
  /**
   * Milliseconds a client may take nothing while data waits for it before it is cut; `null` for
   * no limit. Defaults to `30000`.
   */
  stallTimeoutMs?: number | null
  /**
   * Where the hub logs store outages, refused subscriptions and unexpected errors: a pino logger
   * (Fastify's `app.log`) fits. Never a token or a key. `null` for none. Defaults to `console`
   * (errors and warnings).
   */
  logger?: HubLogger | null
}

/**
 * The hub, ready to mount in a Node server: call it with every request (or every request that
 * may be for the hub), and go on with your own routes when it resolves `false`.
 */
export interface MercureHandler {
  /**
   * Answers a request whose path is `/.well-known/mercure` or below (subscribe, publish, CORS
   * preflight, the subscriptions API) and resolves `true` once the answer is sent or the event
   * stream is open (a subscriber's catch-up from the history then goes on at its own pace).
   * Resolves `false` at once, without touching the request, for any other path. The body of a
   * request for the hub is the hub's: read bodies in your own routes only after a `false`.
   * Behind Express, `req.originalUrl` counts, so a mount path does not hide the hub's.
   * Never rejects: an unexpected failure is logged and answered with a `500` (or the stream cut).
   */
  (req: NodeRequest, res: NodeResponse): Promise<boolean>
  /** The hub itself, to publish from your own code (`hub.publish(update)`). */
  readonly hub: Hub
  /** Its store. */
  readonly store: EventStore
  /**
   * Ends every stream cleanly (clients reconnect elsewhere with their last id), refuses new
   * subscriptions with a `503`, and closes the store when the handler made it.
   */
  close(): Promise<void>
}

/**
 * Creates the Mercure hub as a request handler for `node:http`, `node:http2` (its compatibility
 * API), Express, Fastify and Koa. It speaks the same protocol as `ssehub/web`'s fetch handler and
 * the `ssehub` server (`http/mercure-protocol.ts`).
 *
 * @example
 * ```ts
 * const mercure = createMercureHandler({ key: process.env.SSEHUB_JWT_KEY })
 * createServer(async (req, res) => {
 *   if (!(await mercure(req, res))) res.end('your own routes')
 * }).listen(3000)
 * ```
 * @throws {TypeError} without a key; other option mistakes (a key that cannot verify, a bound
 *   out of range) throw too, with a message saying how to fix them.
 */
export function createMercureHandler(options: MercureHandlerOptions): MercureHandler {
  const {
    key,
    publisherKey = key,
    subscriberKey = key,
    store: given,
    heartbeatMs,
    maxQueueBytes,
    stallTimeoutMs,
    logger: givenLogger,
    ...settings
  } = options
  if (publisherKey === undefined || subscriberKey === undefined) {
    throw new TypeError(
      'createMercureHandler needs a key to verify tokens: pass `key` (a shared secret of at least 32 bytes, a PEM public key, or a JWKS URL or file), or both `publisherKey` and `subscriberKey`.',
    )
  }
  const logger = givenLogger === undefined ? consoleLogger : (givenLogger ?? silentLogger)
  const streamOptions: OpenEventStreamOptions = {
    heartbeat:
      heartbeatMs === null
        ? null
        : createHeartbeat(heartbeatMs === undefined ? {} : { intervalMs: heartbeatMs }),
  }
  if (maxQueueBytes !== undefined) streamOptions.maxQueueBytes = maxQueueBytes
  if (stallTimeoutMs !== undefined) streamOptions.stallTimeoutMs = stallTimeoutMs
  const store = given ?? createMemoryStore()
  let closing = false
  let service: ReturnType<typeof createMercureService>
  try {
    service = createMercureService(
      {
        ...settings,
        store,
        publisherKey,
        subscriberKey,
        // Configuration errors name the option the user set, not the CLI's variables.
        keyNames: {
          publisher: options.publisherKey === undefined ? 'key' : 'publisherKey',
          subscriber: options.subscriberKey === undefined ? 'key' : 'subscriberKey',
        },
      },
      { logger, closing: () => closing },
    )
  } catch (error) {
    if (given === undefined) void store.close()
    throw error
  }
  // Streams opened while a request is handled: its promise resolves at once for them.
  const opening = new WeakMap<NodeResponse, () => void>()
  const handleProtocol = createProtocolHandler({
    protocol: service.protocol,
    openStream: (req, res, headers) => {
      const stream = openEventStream(req, res, { ...streamOptions, headers })
      opening.get(res)?.()
      return stream
    },
    logger,
  })

  const handle = async (req: NodeRequest, res: NodeResponse): Promise<boolean> => {
    let url: URL
    try {
      // Express rewrites `req.url` under a mount path; its `originalUrl` is the request's own.
      const target = (req as { originalUrl?: unknown }).originalUrl
      url = new URL(typeof target === 'string' ? target : (req.url ?? '/'), 'http://localhost')
    } catch {
      return false
    }
    const fail = (error: unknown): boolean => {
      logger.error({ err: error, path: url.pathname }, 'hub request failed')
      if (!res.headersSent) sendText(res, 500, 'Internal error.\n')
      else res.destroy?.()
      return true
    }
    // A subscription's catch-up goes at its client's pace: the caller (Fastify's hijack, Koa's
    // `respond = false`) hears `true` as soon as the stream is open, not when the catch-up ends.
    const opened = new Promise<boolean>((resolve) => opening.set(res, () => resolve(true)))
    const handling = handleProtocol(req, res, url).catch(fail)
    try {
      return await Promise.race([handling, opened])
    } finally {
      opening.delete(res)
    }
  }
  return Object.assign(handle, {
    hub: service.hub,
    store,
    async close() {
      if (closing) return
      closing = true
      service.close()
      if (given === undefined) await store.close()
    },
  })
}

import { DEFAULT_MAX_QUEUE_BYTES, DEFAULT_STALL_TIMEOUT_MS } from '../core/defaults.ts'
import type { EventStream } from '../core/event-stream.ts'
import {
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
} from '../http/event-stream-response.ts'
import { createNodeProtocolHandler } from '../http/mercure-handler.ts'
import { parseRequestTarget } from '../http/request-target.ts'
import { sendText } from '../http/send-text.ts'
import type { EventStore } from '../hub/event-store.ts'
import type { Hub } from '../hub/hub.ts'
import type { MercureClaims } from '../hub/jwt-verifier.ts'
import { type EmbeddedHubOptions, embedHub } from '../web/embedded-hub.ts'

/**
 * Options for {@link createMercureHandler}: a key, and whatever differs from the defaults. The
 * hub's bounds (`maxBodyBytes`, `publishLimits`, `subscriptionLimits`, `maxLifetimeMs`, …) are
 * those of the `ssehub` server and of `ssehub/web`, with the same defaults.
 */
export interface MercureHandlerOptions extends EmbeddedHubOptions {
  /**
   * Called with each event stream the hub opens, and its request, right after the stream's
   * headers went out: to count the open streams, follow how they close (`stream.onClose`), or end
   * them (`stream.close()`) when your server shuts down. Defaults to none.
   */
  onStream?: ((stream: EventStream, req: NodeRequest) => void) | undefined
  /**
   * Called with an unexpected failure of a request for the hub, right before the handler answers
   * it `500` (or cuts its stream, when the answer had begun): a bug, such as a custom store that
   * throws, or the client's doing, such as an upload it aborted or a connection it reset, which
   * your server may rather count than log. It should not throw. Defaults to logging the failure
   * to `logger` as `hub request failed`.
   */
  onError?: ((error: unknown, req: NodeRequest) => void) | undefined
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
   * Verifies a token with the subscriber key, as the hub verifies a subscriber's (signature,
   * allowed algorithms, expiry), and resolves with its `mercure` claim: to authorize routes of
   * your own with the tokens your users hold already. Rejects when the token is not valid.
   */
  verifySubscriberToken(token: string): Promise<MercureClaims>
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
 * @throws {MissingPackageError} when `jose`, which verifies the tokens, is not installed.
 */
export function createMercureHandler(options: MercureHandlerOptions): MercureHandler {
  const { onStream, onError, ...hubOptions } = options
  const embedded = embedHub('createMercureHandler', hubOptions)
  const { service, logger } = embedded
  // Every stream's options object has this one shape, every field set: a spread of the optional
  // fields made objects of a new hidden class on each connect, so the stream's reads of its
  // options went megamorphic and missed V8's stub cache every time (7 runtime lookups a connect).
  const { heartbeat } = embedded.streamOptions
  const maxQueueBytes = embedded.streamOptions.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES
  const stallTimeout = embedded.streamOptions.stallTimeoutMs
  const stallTimeoutMs = stallTimeout === undefined ? DEFAULT_STALL_TIMEOUT_MS : stallTimeout
  const handleProtocol = createNodeProtocolHandler({
    protocol: service.protocol,
    openStream: (req, res, headers) => {
      const options: OpenEventStreamOptions = { heartbeat, maxQueueBytes, stallTimeoutMs, headers }
      const stream = openEventStream(req, res, options)
      onStream?.(stream, req)
      return stream
    },
    logger,
  })

  const fail = (error: unknown, req: NodeRequest, res: NodeResponse, url: URL): boolean => {
    if (onError === undefined)
      logger.error({ err: error, path: url.pathname }, 'hub request failed')
    else onError(error, req)
    if (!res.headersSent) sendText(res, 500, 'Internal error.\n')
    else res.destroy?.()
    return true
  }

  const handle = (req: NodeRequest, res: NodeResponse): Promise<boolean> => {
    // Express rewrites `req.url` under a mount path; its `originalUrl` is the request's own.
    const target = (req as { originalUrl?: unknown }).originalUrl
    const url = parseRequestTarget(typeof target === 'string' ? target : (req.url ?? '/'))
    if (url === null) return Promise.resolve(false)
    // A subscription's catch-up goes at its client's pace: the caller (Fastify's hijack, Koa's
    // `respond = false`) hears `true` as soon as the stream is open, not when the catch-up ends.
    // One promise per request, settled by whichever comes first.
    return new Promise<boolean>((resolve) => {
      handleProtocol(req, res, url, () => resolve(true)).then(resolve, (error: unknown) =>
        resolve(fail(error, req, res, url)),
      )
    })
  }
  return Object.assign(handle, {
    hub: service.hub,
    store: embedded.store,
    verifySubscriberToken: (token: string) => service.subscriberVerifier.verify(token),
    close: embedded.close,
  })
}

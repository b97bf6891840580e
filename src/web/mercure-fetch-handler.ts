import { type HubAnswer, textAnswer } from '../http/hub-answer.ts'
import { HUB_PATH, type HubExchange, type HubOutcome } from '../http/mercure-protocol.ts'
import type { EventStore } from '../hub/event-store.ts'
import type { Hub } from '../hub/hub.ts'
import { type EmbeddedHubOptions, embedHub } from './embedded-hub.ts'
import { type EventStreamResponseOptions, eventStreamResponse } from './event-stream-response.ts'
import { hubRequest } from './hub-request.ts'
import { readRequestBody } from './read-request-body.ts'

/**
 * Options for {@link createMercureFetchHandler}: a key, and whatever differs from the defaults.
 * The hub's bounds (`maxBodyBytes`, `publishLimits`, `subscriptionLimits`, `maxLifetimeMs`, …)
 * are those of the `ssehub` server and of `ssehub/node`, with the same defaults.
 */
export interface MercureFetchHandlerOptions extends EmbeddedHubOptions {
  /**
   * Bytes a stream's body may hold that the runtime has not taken yet before the stream holds its
   * writes (see `EventStreamResponseOptions.highWaterMark`). Defaults to `65536`.
   */
  highWaterMark?: number
}

/** What the runtime knows of a request that the `Request` does not carry. */
export interface MercureFetchInfo {
  /**
   * The client's address (Bun: `server.requestIP(request)?.address`; Deno: `info.remoteAddr`'s
   * `hostname`; `@hono/node-server`: `getConnInfo(c).remote.address`), for the caps on
   * subscriptions per address (`subscriptionLimits.maxSubscriptionsPerAddress`) and the budget of
   * subscription events per address. Without it neither applies. Defaults to none.
   */
  clientAddress?: string | undefined
}

/**
 * The hub as a fetch handler: give it every request (or every request under
 * `/.well-known/mercure`) and return what it resolves.
 */
export interface MercureFetchHandler {
  /**
   * Answers a request for `/.well-known/mercure` or below: subscribe (GET, with `topic`, resumed
   * from `Last-Event-ID` or `lastEventID`), publish (POST, a form), CORS preflight (OPTIONS) and
   * the subscriptions API (when `subscriptions` is on). Any other path gets a `404`: route only
   * the hub's paths to it when it shares a server with your own routes. Refusals are answered as
   * on Node (`400`, `401` or `403` with `WWW-Authenticate`, `405`, `408`, `413`, `415`, `429`,
   * `503`). Never rejects: an unexpected failure is logged and answered with a `500`.
   *
   * A subscription resolves as soon as its stream is open: its catch-up from the history goes on
   * as the client reads.
   */
  (request: Request, info?: MercureFetchInfo): Promise<Response>
  /** The hub itself, to publish from your own code (`hub.publish(update)`). */
  readonly hub: Hub
  /** Its store. */
  readonly store: EventStore
  /**
   * Ends every stream cleanly (clients reconnect elsewhere with their last id), refuses new
   * subscriptions with a 503, and closes the store when the handler made it.
   */
  close(): Promise<void>
}

/**
 * Creates the Mercure hub as a web-standard fetch handler, `(request) => Promise<Response>`, for
 * Hono, Bun, Deno, Next.js route handlers and Workers-style runtimes. It speaks the same protocol
 * as `ssehub/node`'s handler and the `ssehub` server: the decisions are shared
 * (`http/mercure-protocol.ts`); only reading bodies and opening streams differ.
 *
 * @example
 * ```ts
 * const hub = createMercureFetchHandler({ key: process.env.SSEHUB_JWT_KEY })
 * Bun.serve({ fetch: (request, server) => hub(request, { clientAddress: server.requestIP(request)?.address }) })
 * ```
 * @throws {TypeError} without a key; other option mistakes (a key that cannot verify, a bound
 *   out of range) throw too, with a message saying how to fix them.
 * @throws {MissingPackageError} when `jose`, which verifies the tokens, is not installed.
 */
export function createMercureFetchHandler(
  options: MercureFetchHandlerOptions,
): MercureFetchHandler {
  const embedded = embedHub('createMercureFetchHandler', options)
  const { service, logger } = embedded
  const streamOptions: EventStreamResponseOptions = { ...embedded.streamOptions }
  if (options.highWaterMark !== undefined) streamOptions.highWaterMark = options.highWaterMark

  const handle = async (request: Request, info?: MercureFetchInfo): Promise<Response> => {
    let exchange: HubExchange
    // Resolved with the stream's response once the protocol opens it.
    let opened: (response: Response) => void = () => {}
    const streaming = new Promise<Response>((resolve) => {
      opened = resolve
    })
    try {
      exchange = {
        request: hubRequest(request, info?.clientAddress),
        readBody: (limit, timeoutMs) => readRequestBody(request, limit, { timeoutMs }),
        openStream: (headers) => {
          const { response, stream } = eventStreamResponse(request, { ...streamOptions, headers })
          opened(response)
          return stream
        },
      }
    } catch {
      return answerResponse(request, textAnswer(400, 'The request URL is not a valid URL.\n'))
    }
    const handling = service.protocol.handle(exchange)
    let first: { outcome: HubOutcome } | { response: Response }
    try {
      // A subscription's catch-up goes at its client's pace, which needs the response returned:
      // the stream's response is taken as soon as it exists, not when the protocol is done.
      first = await Promise.race([
        handling.then((outcome) => ({ outcome })),
        streaming.then((response) => ({ response })),
      ])
    } catch (error) {
      logger.error({ err: error, path: exchange.request.url.pathname }, 'hub request failed')
      return answerResponse(request, textAnswer(500, 'Internal error.\n'))
    }
    if ('response' in first) {
      handling.catch((error: unknown) => {
        logger.error({ err: error }, 'subscription failed')
      })
      return first.response
    }
    const { outcome } = first
    if (outcome === 'streaming') return streaming
    if (outcome === null) {
      return answerResponse(
        request,
        textAnswer(
          404,
          `Nothing here: ${exchange.request.url.pathname}. The hub answers at ${HUB_PATH}.\n`,
        ),
      )
    }
    return answerResponse(request, outcome)
  }

  return Object.assign(handle, {
    hub: service.hub,
    store: embedded.store,
    close: embedded.close,
  })
}

/**
 * The `Response` of an answer. Its body, if the request's was refused unread, is left to the
 * runtime: cancelling it would, on Node behind an adapter, destroy the socket before the answer
 * went out (see `readRequestBody`).
 */
function answerResponse(request: Request, answer: HubAnswer): Response {
  const body = request.method === 'HEAD' ? null : answer.body
  return new Response(body, { status: answer.status, headers: answer.headers })
}

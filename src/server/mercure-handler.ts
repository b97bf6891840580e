import type { OutgoingHttpHeaders } from 'node:http'
import type { EventStream } from '../core/event-stream.ts'
import { AuthError } from '../hub/auth-error.ts'
import { canPublish, checkPublishOrigin } from '../hub/authorize.ts'
import type { Hub } from '../hub/hub.ts'
import { JwksUnavailableError } from '../hub/jwt-keys.ts'
import type { JwtVerifier } from '../hub/jwt-verifier.ts'
import { isPublishFormError, parsePublishForm } from '../hub/publish-form.ts'
import type { TopicMatcher } from '../hub/subscriber.ts'
import { extractToken } from '../hub/token-source.ts'
import { checkSelector, checkTemplateBudget, type SelectorMatcher } from '../hub/topic-selector.ts'
import type { StoredUpdate } from '../hub/update.ts'
import { DuplicateIdError, StoreUnavailableError } from '../storage/store.ts'
import type { Cors } from './cors.ts'
import type { NodeRequest, NodeResponse } from './event-stream-response.ts'
import { readLastEventId } from './last-event-id.ts'
import type { Logger } from './logger.ts'
import { BodyTooLargeError, readBody } from './read-body.ts'
import { discardRefusedBody } from './refused-body.ts'
import { sendText } from './send-text.ts'
import { handleSubscriptionsApi } from './subscriptions-api.ts'

/** The hub's path (Mercure: "MUST be the well-known path"). */
export const HUB_PATH = '/.well-known/mercure'

/** Values of the `cursor` query parameter that ask for the id-only block at connect. */
const CURSOR_REQUESTED = new Set(['1', 'true', 'yes'])

/** Options for {@link createMercureHandler}. */
export interface MercureHandlerOptions {
  hub: Hub
  matches: TopicMatcher
  /** The hub's selector matcher, for the template budget of a subscription. */
  matcher: SelectorMatcher
  publisherVerifier: JwtVerifier
  subscriberVerifier: JwtVerifier
  /** Whether subscribers without a token get public updates. */
  anonymous: boolean
  /** Origins allowed to publish with the cookie (CSRF check). */
  publishOrigins: readonly string[] | '*'
  cors: Cors
  cookieName: string
  /** Largest publish body in bytes. */
  maxBodyBytes: number
  /** Most `topic` parameters on one subscription. Defaults to `1000`. */
  maxSelectors?: number
  /** Whether the subscriptions API answers. */
  subscriptionsApi: boolean
  /** Opens an SSE response with extra headers (the server tracks and heartbeats it). */
  openStream: (req: NodeRequest, res: NodeResponse, headers: OutgoingHttpHeaders) => EventStream
  logger: Logger
  /** Whether the server is shutting down (new subscriptions get 503). */
  closing: () => boolean
}

/** Handles `/.well-known/mercure` and below; returns `false` for any other path. */
export function createMercureHandler(
  options: MercureHandlerOptions,
): (req: NodeRequest, res: NodeResponse, url: URL) => Promise<boolean> {
  const { hub, cors, logger } = options
  const maxSelectors = options.maxSelectors ?? 1000

  const fail = (
    req: NodeRequest,
    res: NodeResponse,
    error: unknown,
    headers: OutgoingHttpHeaders,
  ): void => {
    if (AuthError.is(error)) {
      const challenge = error.status === 400 ? {} : { 'www-authenticate': error.wwwAuthenticate }
      sendText(res, error.status, `${error.message}\n`, { ...headers, ...challenge })
    } else if (error instanceof JwksUnavailableError) {
      logger.error({ err: error }, 'cannot fetch the JWKS')
      sendText(
        res,
        503,
        'The hub cannot check tokens right now (its key set is unreachable); retry shortly.\n',
        {
          ...headers,
          'retry-after': '5',
        },
      )
    } else if (error instanceof StoreUnavailableError) {
      logger.error({ err: error }, 'store unavailable')
      sendText(
        res,
        503,
        'The update was not stored: the hub storage is unavailable. Retry shortly.\n',
        {
          ...headers,
          'retry-after': '1',
        },
      )
    } else if (error instanceof DuplicateIdError) {
      sendText(
        res,
        409,
        'An update with this id is already in the history, with other content: publish with another id, or resend the identical update to retry it.\n',
        headers,
      )
    } else if (error instanceof BodyTooLargeError) {
      sendText(res, 413, `${error.message}\n`, headers)
      discardRefusedBody(req, res)
    } else {
      throw error
    }
  }

  const verify = async (verifier: JwtVerifier, req: NodeRequest, url: URL) => {
    const found = extractToken(
      { headers: req.headers, url: `${url.pathname}${url.search}` },
      options.cookieName,
    )
    if (found === null) return { found, claims: null }
    return { found, claims: await verifier.verify(found.token) }
  }

  const subscribe = async (
    req: NodeRequest,
    res: NodeResponse,
    url: URL,
    headers: OutgoingHttpHeaders,
  ) => {
    const selectors = url.searchParams.getAll('topic')
    if (selectors.length === 0) {
      sendText(
        res,
        400,
        'Missing "topic" parameter: subscribe with ?topic=<topic, URI template or *>.\n',
        headers,
      )
      return
    }
    if (selectors.length > maxSelectors) {
      sendText(
        res,
        400,
        `Too many "topic" parameters: ${selectors.length}, at most ${maxSelectors}.\n`,
        headers,
      )
      return
    }
    for (const selector of selectors) {
      const problem = checkSelector(selector)
      if (problem !== null) {
        sendText(res, 400, `Invalid "topic" parameter: ${problem}\n`, headers)
        return
      }
    }
    const tooComplex = checkTemplateBudget(selectors, options.matcher)
    if (tooComplex !== null) {
      sendText(res, 400, `Invalid "topic" parameters: ${tooComplex}\n`, headers)
      return
    }
    const { claims } = await verify(options.subscriberVerifier, req, url)
    if (claims === null && !options.anonymous) {
      throw new AuthError(
        'missing-token',
        'Subscribing requires a token: send it as Authorization: Bearer, in the mercureAuthorization cookie, or as ?authorization=.',
      )
    }
    if (options.closing()) {
      sendText(res, 503, 'The hub is shutting down; reconnect shortly.\n', {
        ...headers,
        'retry-after': '1',
      })
      return
    }
    if (req.method === 'HEAD') {
      res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8' })
      res.end()
      return
    }
    // [spec] the header wins over the query parameter; draft-08 and compat names also accepted.
    const lastEventId =
      readLastEventId(req.headers) ??
      url.searchParams.get('lastEventID') ??
      url.searchParams.get('last_event_id') ??
      // event-source-polyfill resumes with this spelling by default: ignoring it loses every
      // update published while it reconnects.
      url.searchParams.get('lastEventId') ??
      url.searchParams.get('Last-Event-ID') ??
      undefined
    await hub.subscribe({
      selectors,
      claims: claims === null ? null : { subscribe: claims.subscribe, payload: claims.payload },
      lastEventId,
      sendCursor: CURSOR_REQUESTED.has(url.searchParams.get('cursor') ?? ''),
      expiresAt: claims?.exp === undefined ? undefined : claims.exp * 1000,
      open: (extra: Record<string, string>) =>
        options.openStream(req, res, { ...headers, ...extra }),
    })
  }

  const publish = async (
    req: NodeRequest,
    res: NodeResponse,
    url: URL,
    headers: OutgoingHttpHeaders,
  ) => {
    const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase()
    if (type !== 'application/x-www-form-urlencoded') {
      sendText(
        res,
        415,
        `Publish with Content-Type: application/x-www-form-urlencoded (got ${type === '' ? 'none' : JSON.stringify(type)}).\n`,
        headers,
      )
      return
    }
    const { found, claims } = await verify(options.publisherVerifier, req, url)
    if (found?.source === 'cookie') {
      const refused = checkPublishOrigin(req.headers, options.publishOrigins)
      if (refused !== null) throw refused
    }
    const body = await readBody(req, options.maxBodyBytes)
    const update = parsePublishForm(body.toString('utf8'))
    if (isPublishFormError(update)) {
      sendText(res, 400, `${update.message}\n`, headers)
      return
    }
    const refused = canPublish(claims, update.topics, options.matches)
    if (refused !== null) throw refused
    const reserved = update.topics.find((topic) => topic.includes(HUB_PATH))
    if (reserved !== undefined) {
      throw new AuthError(
        'insufficient-scope',
        `The topic ${JSON.stringify(reserved)} is reserved: topics under ${HUB_PATH} belong to the hub.`,
      )
    }
    let stored: StoredUpdate
    try {
      stored = await hub.publish(update)
    } catch (error) {
      if (!(error instanceof StoreUnavailableError && error.outcome === 'unknown')) throw error
      // The store took the update but did not confirm it (Redis answered too late, or the
      // connection dropped): it may be stored and delivered. A retry with this very id (also a
      // generated one, hence the header) is stored once, never as a second copy.
      logger.error({ err: error }, 'store did not confirm a publish')
      sendText(
        res,
        503,
        `The hub storage did not confirm the update in time: it may have been stored and delivered. Retry with id=${update.id}: an update is stored once per id.\n`,
        { ...headers, 'retry-after': '1', 'mercure-update-id': encodeURI(update.id) },
      )
      return
    }
    sendText(res, 200, stored.id, headers)
  }

  return async (req, res, url) => {
    const path = url.pathname
    if (path !== HUB_PATH && !path.startsWith(`${HUB_PATH}/`)) return false
    const origin = typeof req.headers.origin === 'string' ? req.headers.origin : undefined
    const method = req.method ?? 'GET'
    if (method === 'OPTIONS') {
      const preflight = cors.preflight(origin)
      res.writeHead(204, preflight ?? {})
      res.end()
      return true
    }
    const headers = cors.headers(origin)
    try {
      if (path === HUB_PATH) {
        if (method === 'GET' || method === 'HEAD') await subscribe(req, res, url, headers)
        else if (method === 'POST') await publish(req, res, url, headers)
        else
          sendText(res, 405, `${method} is not allowed: GET subscribes, POST publishes.\n`, {
            ...headers,
            allow: 'GET, HEAD, POST, OPTIONS',
          })
        return true
      }
      if (options.subscriptionsApi) {
        const verified = await verify(options.subscriberVerifier, req, url)
        if (
          await handleSubscriptionsApi(req, res, url, {
            hub,
            matches: options.matches,
            claims: verified.claims,
            headers,
          })
        ) {
          return true
        }
      }
      sendText(res, 404, `Nothing here: ${path}.\n`, headers)
      return true
    } catch (error) {
      if (res.headersSent) {
        // A subscription failed after its stream opened: the client reconnects with its last id.
        logger.error({ err: error }, 'subscription failed')
        res.destroy?.()
        return true
      }
      fail(req, res, error, headers)
      return true
    }
  }
}

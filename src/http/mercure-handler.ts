import { createHash } from 'node:crypto'
import type { OutgoingHttpHeaders } from 'node:http'
import type { EventStream } from '../core/event-stream.ts'
import { AuthError } from '../hub/auth-error.ts'
import { canPublish, checkPublishOrigin } from '../hub/authorize.ts'
import { DuplicateIdError, StoreUnavailableError } from '../hub/event-store.ts'
import type { Hub } from '../hub/hub.ts'
import { JwksUnavailableError } from '../hub/jwt-keys.ts'
import type { JwtVerifier } from '../hub/jwt-verifier.ts'
import { isPublishFormError, type PublishLimits, parsePublishForm } from '../hub/publish-form.ts'
import type { TopicMatcher } from '../hub/subscriber.ts'
import { SubscriptionLimitError } from '../hub/subscription-limits.ts'
import { checkSelector, checkTemplateBudget, type SelectorMatcher } from '../hub/topic-selector.ts'
import type { StoredUpdate } from '../hub/update.ts'
import { parseUrlEncodedForm } from '../hub/url-encoded-form.ts'
import type { Cors } from './cors.ts'
import type { NodeRequest, NodeResponse } from './event-stream-response.ts'
import { checkFormContentType } from './form-content-type.ts'
import { readLastEventId, utf8HeaderValue } from './last-event-id.ts'
import type { Logger } from './logger.ts'
import { createOutageLog, type OutageLog } from './outage-log.ts'
import { BodyTimeoutError, BodyTooLargeError, readBody } from './read-body.ts'
import { closingHeaders, discardRefusedBody } from './refused-body.ts'
import { sendText } from './send-text.ts'
import { handleSubscriptionsApi } from './subscriptions-api.ts'
import { extractToken } from './token-source.ts'

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
  /**
   * Milliseconds a publish body has to arrive in, from the moment its token was accepted; then
   * 408 and the connection is closed. `null` for no deadline. Defaults to `10000`.
   */
  bodyTimeoutMs?: number | null
  /** Most `topic` parameters on one subscription. Defaults to `1000`. */
  maxSelectors?: number
  /** Bounds of a publish's fields (`id`, `type`, topics). Defaults to `parsePublishForm`'s. */
  publishLimits?: PublishLimits
  /** Whether the subscriptions API answers. */
  subscriptionsApi: boolean
  /** Opens an SSE response with extra headers (the server tracks and heartbeats it). */
  openStream: (req: NodeRequest, res: NodeResponse, headers: OutgoingHttpHeaders) => EventStream
  logger: Logger
  /**
   * Where the store's failures are logged: once when it starts failing, once when it works again.
   * Defaults to one of this handler's own.
   */
  storeFailures?: OutageLog
  /** Whether the server is shutting down (new subscriptions get 503). */
  closing: () => boolean
}

/** Handles `/.well-known/mercure` and below; returns `false` for any other path. */
export function createMercureHandler(
  options: MercureHandlerOptions,
): (req: NodeRequest, res: NodeResponse, url: URL) => Promise<boolean> {
  const { hub, cors, logger } = options
  const maxSelectors = options.maxSelectors ?? 1000
  /** When each hub-wide limit last had a refusal logged. */
  const limitWarnings = new Map<string, number>()
  // A full disk or an unreachable key set fails every request alike: one line when it starts,
  // one when it ends, not one per request (see createOutageLog).
  const storeFailures =
    options.storeFailures ??
    createOutageLog({ logger, failing: 'store unavailable', recovered: 'store available again' })
  const keySetFailures = new Map<JwtVerifier, OutageLog>()
  const keySetLog = (verifier: JwtVerifier): OutageLog => {
    let log = keySetFailures.get(verifier)
    if (log === undefined) {
      log = createOutageLog({
        logger,
        failing: 'cannot fetch the JWKS',
        recovered: 'the JWKS can be fetched again',
      })
      keySetFailures.set(verifier, log)
    }
    return log
  }
  const bodyTimeoutMs = options.bodyTimeoutMs === undefined ? 10_000 : options.bodyTimeoutMs

  const fail = (
    req: NodeRequest,
    res: NodeResponse,
    error: unknown,
    given: OutgoingHttpHeaders,
  ): void => {
    // DoS guard: a request refused before its body was read (no token, a token that may not
    // publish, a body too slow) is answered at once and its connection closed; the rest of its
    // body is dropped as it arrives, never buffered. A body too large is not in this case: its
    // publisher had a valid token, and keeps its connection (see discardRefusedBody).
    const unread =
      req.method !== 'GET' &&
      req.method !== 'HEAD' &&
      !req.complete &&
      !(error instanceof BodyTooLargeError)
    const headers = unread ? { ...given, ...closingHeaders(req) } : given
    if (AuthError.is(error)) {
      const challenge = error.status === 400 ? {} : { 'www-authenticate': error.wwwAuthenticate }
      sendText(res, error.status, `${error.message}\n`, { ...headers, ...challenge })
    } else if (error instanceof JwksUnavailableError) {
      // Logged by verify(), which knows which key set failed.
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
      storeFailures.failed(error)
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
    } else if (error instanceof BodyTimeoutError) {
      sendText(res, 408, `${error.message} Send the whole body at once.\n`, headers)
    } else {
      throw error
    }
    if (unread) discardRefusedBody(req, res, { close: true })
  }

  const verify = async (verifier: JwtVerifier, req: NodeRequest, url: URL) => {
    const found = extractToken(
      { headers: req.headers, url: `${url.pathname}${url.search}` },
      options.cookieName,
    )
    if (found === null) return { found, claims: null }
    const keySet = keySetLog(verifier)
    try {
      const claims = await verifier.verify(found.token)
      keySet.succeeded()
      return { found, claims }
    } catch (error) {
      if (error instanceof JwksUnavailableError) keySet.failed(error)
      throw error
    }
  }

  const subscribe = async (
    req: NodeRequest,
    res: NodeResponse,
    url: URL,
    headers: OutgoingHttpHeaders,
  ) => {
    // As for a publish's body: URLSearchParams would turn a broken escape (`%ZZ`, `%C3%28`) into
    // a topic no publish can carry, and the client would wait for updates that never come.
    const query = parseUrlEncodedForm(url.search.slice(1))
    if (!query.ok) {
      sendText(res, 400, `Bad query string: ${query.message}\n`, headers)
      return
    }
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
    const { found, claims } = await verify(options.subscriberVerifier, req, url)
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
    try {
      await hub.subscribe({
        selectors,
        claims: claims === null ? null : { subscribe: claims.subscribe, payload: claims.payload },
        lastEventId,
        clientAddress: req.socket?.remoteAddress,
        // The cap per token counts a digest: the hub keeps no token.
        tokenDigest: found === null ? undefined : tokenDigest(found.token),
        sendCursor: CURSOR_REQUESTED.has(url.searchParams.get('cursor') ?? ''),
        expiresAt: claims?.exp === undefined ? undefined : claims.exp * 1000,
        open: (extra: Record<string, string>) => {
          const sent: OutgoingHttpHeaders = { ...headers }
          for (const [name, text] of Object.entries(extra)) sent[name] = utf8HeaderValue(text)
          return options.openStream(req, res, sent)
        },
      })
    } catch (error) {
      // A hub-wide limit (template budgets, caps per address and per token): nothing was opened.
      if (!(error instanceof SubscriptionLimitError) || res.headersSent) throw error
      // Once a minute per limit: a flood of refusals must not flood the log.
      const now = Date.now()
      if (now - (limitWarnings.get(error.limit) ?? -Infinity) >= 60_000) {
        limitWarnings.set(error.limit, now)
        const hint =
          error.limit === 'subscriptions-per-address'
            ? '; behind a proxy every client has its address: see --max-per-address'
            : ''
        logger.warn(
          { limit: error.limit },
          `refused subscriptions past a hub-wide limit (429)${hint}`,
        )
      }
      sendText(res, 429, `${error.message}\n`, {
        ...headers,
        'retry-after': String(error.retryAfterSeconds),
      })
    }
  }

  const publish = async (
    req: NodeRequest,
    res: NodeResponse,
    url: URL,
    headers: OutgoingHttpHeaders,
  ) => {
    const unsupported = checkFormContentType(req.headers['content-type'])
    if (unsupported !== null) {
      sendText(res, 415, `${unsupported}\n`, { ...headers, ...closingHeaders(req) })
      discardRefusedBody(req, res, { close: true })
      return
    }
    const { found, claims } = await verify(options.publisherVerifier, req, url)
    if (found?.source === 'cookie') {
      const refused = checkPublishOrigin(req.headers, options.publishOrigins)
      if (refused !== null) throw refused
    }
    // DoS guard: no token, or one that grants no publishing at all, is refused before a byte of
    // the body is read (1,000 such publishes of 1 MB each, stalled, held 1 GB until Node's request
    // timeout). Which topics it may publish to needs the body, so that check comes after it.
    const mayNotPublish = canPublish(claims, [], options.matches)
    if (mayNotPublish !== null) throw mayNotPublish
    const body = await readBody(req, options.maxBodyBytes, { timeoutMs: bodyTimeoutMs })
    const update = parsePublishForm(body, options.publishLimits)
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
      storeFailures.failed(error)
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
        if (error instanceof StoreUnavailableError) storeFailures.failed(error)
        else logger.error({ err: error }, 'subscription failed')
        res.destroy?.()
        return true
      }
      fail(req, res, error, headers)
      return true
    }
  }
}

/** A digest of a token, for counting its subscriptions without keeping it (16 bytes of SHA-256). */
function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('base64url').slice(0, 22)
}

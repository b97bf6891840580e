import type { EventStream } from '../core/event-stream.ts'
import type { AccessTokenVerifier } from '../hub/access-token-verifier.ts'
import { AuthError } from '../hub/auth-error.ts'
import { canPublish, checkPublishOrigin } from '../hub/authorize.ts'
import { StoreUnavailableError } from '../hub/event-store.ts'
import type { Hub } from '../hub/hub.ts'
import { JwksUnavailableError } from '../hub/jwt-keys.ts'
import type { JwtVerifier } from '../hub/jwt-verifier.ts'
import { isPublishFormError, type PublishLimits, parsePublishForm } from '../hub/publish-form.ts'
import type { TopicMatcher } from '../hub/subscriber.ts'
import { SubscriptionLimitError } from '../hub/subscription-limits.ts'
import type { MercureProtocolVersion } from '../hub/token-protocol.ts'
import { checkTemplateBudget, type SelectorMatcher } from '../hub/topic-selector.ts'
import type { TraceSpan } from '../hub/trace-span.ts'
import type { StoredUpdate } from '../hub/update.ts'
import { checkEventType, checkUpdateRules, isReservedTopic } from '../hub/update-rules.ts'
import { type FormFields, parseUrlEncodedForm } from '../hub/url-encoded-form.ts'
import { BodyTimeoutError, BodyTooLargeError } from './body-errors.ts'
import type { Cors } from './cors.ts'
import {
  DEFAULT_ACCESS_TOKEN_COOKIE_NAME,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_COOKIE_NAME,
  DEFAULT_MAX_SELECTORS,
  MAX_QUERY_BODY_BYTES,
} from './defaults.ts'
import { checkFormContentType } from './form-content-type.ts'
import { type HubAnswer, textAnswer } from './hub-answer.ts'
import { createHubIdentity, HUB_PATH, METADATA_PATH } from './hub-identity.ts'
import type { HubLogger } from './hub-logger.ts'
import { readLastEventId, utf8HeaderValue } from './last-event-id.ts'
import { createLimitRefusal } from './limit-refusal.ts'
import { createOutageLog, type OutageLog } from './outage-log.ts'
import { type RequestHeaders, singleHeader } from './request-headers.ts'
import { createTokenCheck } from './request-token.ts'
import { resourceMetadataAnswer } from './resource-metadata.ts'
import { readSubscribeParameters } from './subscribe-parameters.ts'
import { subscriptionsAnswer } from './subscriptions-api.ts'
import { tokenDigest } from './token-digest.ts'
import { traceTokenCheck } from './traced-token-check.ts'

export { HUB_PATH, METADATA_PATH }

/** A request as the protocol reads it, whatever the framework that received it. */
export interface HubRequest {
  /** The method, upper-case. */
  readonly method: string
  /** The full request URL (path and query string are what count). */
  readonly url: URL
  /** The headers by lower-case name, as the server decoded them. */
  readonly headers: RequestHeaders
  /** The client's address, for the caps per address. `undefined` counts against none. */
  readonly clientAddress?: string | undefined
  /**
   * The origin the client addressed (`https://hub.example.com`): the scheme of its connection and
   * its `Host` (or `:authority`). The Mercure 1.0 resource identifier and hub URL are derived from
   * it when not pinned, and `publicUrls` checks it. Defaults to `url`'s origin.
   */
  readonly origin?: string | undefined
  /** The request's span, when it is traced (see `traced-protocol.ts`). Defaults to none. */
  readonly trace?: TraceSpan | undefined
}

/**
 * One request and what only its framework can do: read its body, open its event stream. The Node
 * handler and the fetch handler each make one per request and hand it to
 * {@link MercureProtocol.handle}.
 */
export interface HubExchange {
  readonly request: HubRequest
  /**
   * Reads the whole body, at most `limit` bytes, within `timeoutMs` (`null`: no deadline).
   *
   * @throws {BodyTooLargeError} past `limit`.
   * @throws {BodyTimeoutError} past `timeoutMs`.
   */
  readBody(limit: number, timeoutMs: number | null): Promise<Uint8Array>
  /**
   * Opens the SSE response with these headers (status 200; the stream adds its own content type
   * and cache headers) and returns its stream. Called at most once.
   */
  openStream(headers: Record<string, string>): EventStream
}

/**
 * What became of a request: an answer to send, `'streaming'` when its event stream was opened
 * (nothing more to send), or `null` when its path is not the hub's.
 */
export type HubOutcome = HubAnswer | 'streaming' | null

/** Options for {@link createMercureProtocol}. */
export interface MercureProtocolOptions {
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
  /**
   * The one cookie read, whatever protocol's token it holds. `undefined` reads both defaults
   * (`__Secure-mercure_access_token` and `mercureAuthorization`), the request's protocol's first.
   */
  cookieName: string | undefined
  /** The protocols spoken. Defaults to both. */
  protocols?: ReadonlySet<MercureProtocolVersion>
  /** Mercure 1.0 access-token verifiers by role. `null` (the default) refuses every 1.0 token. */
  accessTokenVerifiers?: {
    readonly publisher: AccessTokenVerifier
    readonly subscriber: AccessTokenVerifier
  } | null
  /** The pinned resource identifier; `undefined` (the default) derives it per request. */
  resourceIdentifier?: string | undefined
  /** The origins the hub may be addressed at (others get 421). Defaults to any. */
  publicUrls?: readonly string[] | undefined
  /** The issuers the metadata lists as authorization servers. Defaults to none. */
  authorizationServers?: readonly string[]
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
  logger: HubLogger
  /**
   * Where the store's failures are logged: once when it starts failing, once when it works again.
   * Defaults to one of this protocol's own.
   */
  storeFailures?: OutageLog
  /** Whether the server is shutting down (new subscriptions get 503). */
  closing: () => boolean
  /** Whether requests may carry a span (`HubRequest.trace`). Defaults to `false`. */
  traced?: boolean
}

/** The Mercure protocol over HTTP, for any framework: see {@link createMercureProtocol}. */
export interface MercureProtocol {
  /**
   * Serves `/.well-known/mercure` and below: subscribe (GET, HEAD), publish (POST), CORS
   * preflight (OPTIONS), the subscriptions API. Resolves `null` for any other path.
   *
   * Known refusals (auth, limits, store or key set unavailable, bodies too large or too slow)
   * resolve as answers. Anything else rejects, before the stream opens; a subscription that fails
   * after its stream opened is logged and its stream closed (the client resumes with its last id).
   */
  handle(exchange: HubExchange): Promise<HubOutcome>
}

/**
 * The Mercure protocol, framework-neutral: a request's method, URL and headers in, the answer (or
 * an opened event stream) out. Reading a body and opening a stream are the framework's, through
 * the {@link HubExchange}; what to answer, with which status and headers, is decided here once, for
 * the Node handler and the fetch handler alike.
 */
export function createMercureProtocol(options: MercureProtocolOptions): MercureProtocol {
  const { hub, cors, logger } = options
  const maxSelectors = options.maxSelectors ?? DEFAULT_MAX_SELECTORS
  const limitRefusal = createLimitRefusal(logger)
  // A full disk or an unreachable key set fails every request alike: one line when it starts,
  // one when it ends, not one per request (see createOutageLog).
  const storeFailures =
    options.storeFailures ??
    createOutageLog({ logger, failing: 'store unavailable', recovered: 'store available again' })
  const bodyTimeoutMs =
    options.bodyTimeoutMs === undefined ? DEFAULT_BODY_TIMEOUT_MS : options.bodyTimeoutMs
  const protocols = options.protocols ?? new Set<MercureProtocolVersion>(['1.0', '0.x'])
  const identity = createHubIdentity(options.resourceIdentifier)
  const publicOrigins =
    options.publicUrls === undefined
      ? null
      : new Set(options.publicUrls.map((url) => new URL(url).origin))
  const checkToken = createTokenCheck({
    protocols,
    cookieName: options.cookieName,
    publisherVerifier: options.publisherVerifier,
    subscriberVerifier: options.subscriberVerifier,
    accessTokenVerifiers: options.accessTokenVerifiers ?? null,
    identity,
    logger,
  })
  const verify = traceTokenCheck(checkToken, options.traced === true)

  /** The answer to a known refusal, or `null` for an error the protocol does not know. */
  const refusal = (
    error: unknown,
    request: HubRequest,
    headers: Record<string, string>,
  ): HubAnswer | null => {
    const { method } = request
    // DoS guard: a request refused before its body was read (no token, a token that may not
    // publish, a body too slow) is answered at once and its connection closed; the rest of its
    // body is dropped as it arrives, never buffered. A body too large is not in this case: its
    // publisher had a valid token, and keeps its connection (see discardRefusedBody).
    const mayHaveBody = method !== 'GET' && method !== 'HEAD'
    const unread = mayHaveBody ? ('close' as const) : undefined
    let answer: HubAnswer
    if (AuthError.is(error)) {
      // [spec] draft-08 §Errors: every token-related 401 and 403 SHOULD point to the metadata
      // (RFC 9728 §5.1), and a 400 for a malformed credential MUST carry `invalid_request`. A
      // refused origin is no token error: no challenge.
      let challenge = error.code === 'forbidden-origin' ? null : error.wwwAuthenticate
      if (challenge !== null && protocols.has('1.0')) {
        challenge += `, resource_metadata="${identity.metadataUrl(request)}"`
      }
      answer = textAnswer(error.status, `${error.message}\n`, {
        ...headers,
        ...(challenge === null ? {} : { 'www-authenticate': challenge }),
      })
    } else if (error instanceof JwksUnavailableError) {
      // Logged by verify(), which knows which key set failed.
      answer = textAnswer(
        503,
        'The hub cannot check tokens right now (its key set is unreachable); retry shortly.\n',
        { ...headers, 'retry-after': '5' },
      )
    } else if (error instanceof StoreUnavailableError) {
      storeFailures.failed(error)
      answer = textAnswer(
        503,
        'The update was not stored: the hub storage is unavailable. Retry shortly.\n',
        { ...headers, 'retry-after': '1' },
      )
    } else if (error instanceof BodyTooLargeError) {
      return { ...textAnswer(413, `${error.message}\n`, headers), unreadBody: 'drain' as const }
    } else if (error instanceof BodyTimeoutError) {
      answer = textAnswer(408, `${error.message} Send the whole body at once.\n`, headers)
    } else {
      return null
    }
    return unread === undefined ? answer : { ...answer, unreadBody: unread }
  }

  const subscribe = async (
    exchange: HubExchange,
    headers: Record<string, string>,
  ): Promise<HubOutcome> => {
    const { request } = exchange
    const { url } = request
    // [spec] draft-08 §Subscription: a safe method with a body (QUERY) carries the parameters as
    // a form, their union with the query's. Read before the token, as the reference hub does (the
    // parameters say which protocol's token to expect), so bounded far below a publish's body:
    // 1,000 tokenless QUERYs of a publish's 1 MiB, sent slowly, would hold 1 GiB.
    let body: FormFields | null = null
    if (request.method === 'QUERY') {
      const type = singleHeader(request.headers, 'content-type')
      if (checkFormContentType(type) !== null) {
        return {
          ...textAnswer(
            415,
            'Send the parameters of a QUERY subscription as Content-Type: application/x-www-form-urlencoded (UTF-8).\n',
            headers,
          ),
          unreadBody: 'close',
        }
      }
      const limit = Math.min(options.maxBodyBytes, MAX_QUERY_BODY_BYTES)
      const form = parseUrlEncodedForm(await exchange.readBody(limit, bodyTimeoutMs))
      if (!form.ok) return textAnswer(400, `Bad QUERY body: ${form.message}\n`, headers)
      body = form.value
    }
    // As for a publish's body: URLSearchParams would turn a broken escape (`%ZZ`, `%C3%28`) into
    // a topic no publish can carry, and the client would wait for updates that never come.
    const query = parseUrlEncodedForm(url.search.slice(1))
    if (!query.ok) return textAnswer(400, `Bad query string: ${query.message}\n`, headers)
    const parameters = readSubscribeParameters(query.value, body, {
      protocols,
      hubUrl: identity.hubUrl(request),
      maxSelectors,
    })
    if (typeof parameters === 'string') return textAnswer(400, `${parameters}\n`, headers)
    const { selectors } = parameters
    const tooComplex = checkTemplateBudget(selectors, options.matcher)
    if (tooComplex !== null) {
      return textAnswer(400, `Invalid topic selectors: ${tooComplex}\n`, headers)
    }
    const { found, claims } = await verify('subscriber', request, parameters.protocol)
    if (claims === null && !options.anonymous) {
      const cookie = options.cookieName ?? DEFAULT_ACCESS_TOKEN_COOKIE_NAME
      throw new AuthError(
        'missing-token',
        parameters.protocol === '1.0'
          ? `Subscribing requires an access token: send it as Authorization: Bearer, or in the ${cookie} cookie.`
          : `Subscribing requires a token: send it as Authorization: Bearer, in the ${options.cookieName ?? DEFAULT_COOKIE_NAME} cookie, or as ?authorization=.`,
      )
    }
    if (options.closing()) {
      return textAnswer(503, 'The hub is shutting down; reconnect shortly.\n', {
        ...headers,
        'retry-after': '1',
      })
    }
    if (request.method === 'HEAD') {
      return {
        status: 200,
        headers: { ...headers, 'content-type': 'text/event-stream; charset=utf-8' },
        body: null,
      }
    }
    // [spec] the header wins over the query parameter (and the query over a QUERY body).
    const lastEventId = readLastEventId(request.headers) ?? parameters.lastEventId
    let opened: EventStream | null = null
    try {
      await hub.subscribe({
        selectors,
        claims:
          claims === null
            ? null
            : {
                subscribe: claims.subscribe,
                payload: claims.payload,
                subscribePayloads: claims.subscribePayloads,
              },
        lastEventId,
        protocol: parameters.protocol,
        signalGap: parameters.signalGap,
        clientAddress: request.clientAddress,
        // The cap per token counts a digest: the hub keeps no token.
        tokenDigest: found === null ? undefined : await tokenDigest(found.token),
        sendCursor: parameters.sendCursor,
        span: request.trace,
        expiresAt: claims?.exp === undefined ? undefined : claims.exp * 1000,
        open: (extra: Record<string, string>) => {
          // Copied only when there is something to add (a resume's Last-Event-ID).
          let sent = headers
          for (const name of Object.keys(extra)) {
            if (sent === headers) sent = { ...headers }
            sent[name] = utf8HeaderValue(extra[name] as string)
          }
          opened = exchange.openStream(sent)
          return opened
        },
      })
    } catch (error) {
      // Assigned by `open`, which the compiler cannot see run.
      const stream = opened as EventStream | null
      if (stream !== null) {
        // A subscription failed after its stream opened: the client reconnects with its last id.
        if (error instanceof StoreUnavailableError) storeFailures.failed(error)
        else logger.error({ err: error }, 'subscription failed')
        stream.close('error')
        return 'streaming'
      }
      // A hub-wide limit (template budgets, caps per address and per token): nothing was opened.
      if (!(error instanceof SubscriptionLimitError)) throw error
      return limitRefusal(error, headers)
    }
    return 'streaming'
  }

  const publish = async (
    exchange: HubExchange,
    headers: Record<string, string>,
  ): Promise<HubAnswer> => {
    const { request } = exchange
    const unsupported = checkFormContentType(singleHeader(request.headers, 'content-type'))
    if (unsupported !== null) {
      return { ...textAnswer(415, `${unsupported}\n`, headers), unreadBody: 'close' }
    }
    const { found, claims } = await verify('publisher', request, null)
    if (found?.source === 'cookie') {
      const refused = checkPublishOrigin(request.headers, options.publishOrigins)
      if (refused !== null) throw refused
    }
    // DoS guard: no token, or one that grants no publishing at all, is refused before a byte of
    // the body is read (1,000 such publishes of 1 MB each, stalled, held 1 GB until Node's request
    // timeout). Which topics it may publish to needs the body, so that check comes after it.
    const mayNotPublish = canPublish(claims, [], options.matches)
    if (mayNotPublish !== null) throw mayNotPublish
    const body = await exchange.readBody(options.maxBodyBytes, bodyTimeoutMs)
    const update = parsePublishForm(body, options.publishLimits)
    if (isPublishFormError(update)) return textAnswer(400, `${update.message}\n`, headers)
    const hubUrl = identity.hubUrl(request)
    const v1 = claims?.protocol === '1.0'
    // [spec] draft-08 §Publication: a 1.0 publish breaking these rules gets 400 "regardless of the
    // presented access token", so before its grants are looked at. A 0.x publisher on a hub that
    // speaks 1.0 may not send type=mercure either: it would forge 1.0 subscription events.
    const broken = v1
      ? checkUpdateRules(update, hubUrl)
      : protocols.has('1.0')
        ? checkEventType(update)
        : null
    if (broken !== null) return textAnswer(400, `${broken}\n`, headers)
    const refused = canPublish(claims, update.topics, options.matches)
    if (refused !== null) throw refused
    // Mercure 0.x answers 403 to a topic under the hub path (draft-07: "topics under it are
    // reserved"). Its substring test, and the 1.0 resolution test (`/.well-known/%6Dercure/…`,
    // `mercure/subscriptions/…` relative to the hub URL), which 1.0 listeners rely on.
    const reserved = v1
      ? undefined
      : update.topics.find((topic) => topic.includes(HUB_PATH) || isReservedTopic(topic, hubUrl))
    if (reserved !== undefined) {
      throw new AuthError(
        'insufficient-scope',
        `The topic ${JSON.stringify(reserved)} is reserved: topics under ${HUB_PATH} belong to the hub.`,
      )
    }
    let stored: StoredUpdate
    try {
      stored = await hub.publish(update, request.trace)
    } catch (error) {
      if (!(error instanceof StoreUnavailableError && error.outcome === 'unknown')) throw error
      // The store took the update but did not confirm it (Redis answered too late, or the
      // connection dropped): it may be stored and delivered. A retry of the same update with this
      // very id (also a generated one, hence the header) is stored once, never as a second copy.
      storeFailures.failed(error)
      return textAnswer(
        503,
        `The hub storage did not confirm the update in time: it may have been stored and delivered. Retry with id=${update.id}: the same update resent is stored once.\n`,
        { ...headers, 'retry-after': '1', 'mercure-update-id': encodeURI(update.id) },
      )
    }
    return textAnswer(200, stored.id, headers)
  }

  return {
    async handle(exchange) {
      const { request } = exchange
      const path = request.url.pathname
      const metadata = path === METADATA_PATH
      if (path !== HUB_PATH && !path.startsWith(`${HUB_PATH}/`) && !metadata) return null
      const origin = singleHeader(request.headers, 'origin')
      const { method } = request
      // [spec] RFC 9110 §15.5.20: 421 for a request this server is not configured to answer for,
      // before any token is read or identity derived from the Host the client chose.
      if (publicOrigins !== null && !publicOrigins.has(identity.origin(request).toLowerCase())) {
        return textAnswer(
          421,
          `This hub does not answer for ${identity.origin(request).slice(0, 200)}: use ${[...publicOrigins].join(' or ')}.\n`,
        )
      }
      if (metadata) {
        if (!protocols.has('1.0')) return textAnswer(404, 'This hub speaks Mercure 0.x only.\n')
        const resource = identity.resource(request)
        const authorizationServers = options.authorizationServers ?? []
        const cookieName = options.cookieName ?? DEFAULT_ACCESS_TOKEN_COOKIE_NAME
        const about = { resource, authorizationServers, cookieName }
        return resourceMetadataAnswer(
          method,
          { ...about, subscriptions: options.subscriptionsApi },
          cors.headers(origin),
        )
      }
      if (method === 'OPTIONS') {
        return { status: 204, headers: cors.preflight(origin) ?? {}, body: null }
      }
      const headers = cors.headers(origin)
      try {
        if (path === HUB_PATH) {
          if (method === 'GET' || method === 'HEAD' || method === 'QUERY') {
            return await subscribe(exchange, headers)
          }
          if (method === 'POST') return await publish(exchange, headers)
          return textAnswer(
            405,
            `${method} is not allowed: GET (or QUERY) subscribes, POST publishes.\n`,
            { ...headers, allow: 'GET, HEAD, POST, QUERY, OPTIONS' },
          )
        }
        if (options.subscriptionsApi) {
          const verified = await verify('subscriber', request, null)
          const answer = await subscriptionsAnswer(request, {
            hub,
            matches: options.matches,
            claims: verified.claims,
            headers,
          })
          if (answer !== null) return answer
        }
        return textAnswer(404, `Nothing here: ${path}.\n`, headers)
      } catch (error) {
        const answer = refusal(error, request, headers)
        if (answer === null) throw error
        return answer
      }
    },
  }
}

import { createAccessTokenVerifier, type TrustedIssuer } from '../hub/access-token-verifier.ts'
import { DEFAULT_MAX_LIFETIME_MS } from '../hub/defaults.ts'
import { type EventStore, StoreUnavailableError } from '../hub/event-store.ts'
import { createHub, type Hub, type HubMetrics, type HubOptions } from '../hub/hub.ts'
import { createJwtVerifier, type JwtVerifier } from '../hub/jwt-verifier.ts'
import { MAX_ID_BYTES, type PublishLimits } from '../hub/publish-form.ts'
import type { SubscriptionEventLimits } from '../hub/subscription-announcer.ts'
import { isSubscriptionDirectory } from '../hub/subscription-directory.ts'
import { subscriptionEventRelayOf } from '../hub/subscription-event-relay.ts'
import type { MercureProtocolVersion } from '../hub/token-protocol.ts'
import { createSelectorMatcher } from '../hub/topic-selector.ts'
import { createCors } from './cors.ts'
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from './defaults.ts'
import type { HubLogger } from './hub-logger.ts'
import { createMercureProtocol, type MercureProtocol } from './mercure-protocol.ts'
import { createOtelRequestTracer, type OpenTelemetryTracer } from './otel-tracer.ts'
import { createOutageLog } from './outage-log.ts'
import { tracedProtocol } from './traced-protocol.ts'

export type { MercureProtocolVersion, OpenTelemetryTracer }

/** Options for the Mercure hub, whatever the framework it is mounted in. */
export interface MercureServiceOptions {
  /** Where updates are committed and history is read. The caller owns it (and closes it). */
  store: EventStore
  /** Key verifying publishers' tokens: secret, PEM, JWKS URL or JWKS file. */
  publisherKey: string
  /** Key verifying subscribers' tokens. */
  subscriberKey: string
  /** How configuration errors name the two keys (the handlers' options, or the CLI's settings). */
  keyNames: { publisher: string; subscriber: string }
  /** Allowed `alg` of publishers' tokens. Defaults to the key type's algorithms (`HS256` for a secret). */
  publisherAlgorithms?: readonly string[] | null
  /** Allowed `alg` of subscribers' tokens. Defaults as for publishers. */
  subscriberAlgorithms?: readonly string[] | null
  /** Let subscribers without a token receive public updates. Defaults to `false`. */
  anonymous?: boolean
  /** Origins allowed by CORS (with credentials), or `'*'`. Defaults to none. */
  corsOrigins?: readonly string[] | '*'
  /** Origins allowed to publish with the cookie. Defaults to none. */
  publishOrigins?: readonly string[] | '*'
  /** Subscription events and the subscriptions API. Defaults to `false`. */
  subscriptions?: boolean
  /**
   * Bounds on subscription events: `maxSelectors` announced per connection (`100`), `perSecond`
   * per client address (`50`; `null` for no limit) and `burst` (10 × `perSecond`). Defaults to
   * those.
   */
  subscriptionEventLimits?: SubscriptionEventLimits
  /**
   * The authorization cookie's name: the one cookie read, whichever protocol's token it holds.
   * Defaults to two: `__Secure-mercure_access_token` (Mercure 1.0) and `mercureAuthorization`
   * (0.x), the one of the request's protocol read first.
   */
  cookieName?: string
  /**
   * The Mercure protocols spoken: `'1.0'` (draft-dunglas-mercure-08: `match` parameters, RFC 9068
   * access tokens) and `'0.x'` (draft-07: `topic` parameters, the `mercure` claim). Each request
   * is served in the protocol it speaks. Defaults to both.
   */
  protocols?: readonly MercureProtocolVersion[]
  /**
   * Mercure 1.0: the issuers whose access tokens are trusted, each bound to its keys (by default
   * the hub's publisher and subscriber keys). Defaults to none: every 1.0 token is refused.
   */
  trustedIssuers?: readonly TrustedIssuer[]
  /**
   * Mercure 1.0: the hub's resource identifier, which a token's `aud` must contain, and the hub
   * URL relative URL patterns resolve against. Defaults to the URL each request was sent to:
   * `<scheme>://<host>/.well-known/mercure`.
   */
  resourceIdentifier?: string | undefined
  /**
   * The origins (`https://hub.example.com`) the hub is reached at; a request for any other gets
   * 421 Misdirected Request, before any token is read. Defaults to any.
   */
  publicUrls?: readonly string[] | undefined
  /** Largest publish body, in bytes. Defaults to `1048576` (1 MiB). */
  maxBodyBytes?: number
  /**
   * Milliseconds a publish body has to arrive in once its token was accepted; then 408 and the
   * connection is closed. `null` for no deadline. Defaults to `10000`.
   */
  bodyTimeoutMs?: number | null
  /**
   * Bounds of a publish's fields: `maxIdBytes` (`256`, at most `1024`: the id comes back as a
   * `Last-Event-ID` header), `maxTypeBytes` (`256`), `maxTopics` (`1000`), `maxTopicLength`
   * (`8192`). Defaults to those.
   */
  publishLimits?: PublishLimits
  /** Longest connection in milliseconds (randomized 80–100 %), `null` for none. Defaults to `600000`. */
  maxLifetimeMs?: number | null
  /**
   * Hub-wide limits on subscriptions, each `null` for none (see `HubOptions`): `maxTemplateWork`
   * (`4096` automaton states one topic is tested against), `maxTemplateStates` (`1048576` for all
   * distinct templates), `maxSubscriptionsPerAddress` (`1000`), `maxSubscriptionsPerToken`
   * (`1000`). A subscription past one gets 429 with `Retry-After`. Defaults to those.
   */
  subscriptionLimits?: SubscriptionLimitSettings
  /**
   * Where the hub reports what it does: updates published and delivered, subscriptions opened and
   * closed, subscription events dropped (the `ssehub` server feeds Prometheus from it). `null`
   * for none. Defaults to none.
   */
  metrics?: MercureMetrics | null
  /**
   * An OpenTelemetry tracer (`trace.getTracer('my-app')`): each publish and subscription gets a
   * span (`publish`: `auth`, `store.commit`, `dispatch`; `subscribe`: `auth`, `replay`), under the
   * caller's trace when its `traceparent` header names one and a propagator is registered. Needs
   * the `@opentelemetry/api` package. `null` for none, and then nothing is traced and nothing of
   * it runs (see `docs/tracing.md`). Defaults to none.
   */
  tracer?: OpenTelemetryTracer | null
}

/**
 * What a hub reports to: the counters of `HubMetrics` (every method optional), and `observe`,
 * called once with how to read the connected subscribers and the history's size, for gauges read
 * when they are scraped.
 */
export interface MercureMetrics extends HubMetrics {
  /** Receives how the connected-subscribers and history-size gauges are read at scrape time. */
  observe?(sources: { subscribers: () => number; historySize: () => Promise<number> }): void
}

/** The hub-wide limits on subscriptions (see `MercureServiceOptions.subscriptionLimits`). */
export type SubscriptionLimitSettings = Pick<
  HubOptions,
  | 'maxTemplateWork'
  | 'maxTemplateStates'
  | 'maxSubscriptionsPerAddress'
  | 'maxSubscriptionsPerToken'
>

/**
 * The hub and its protocol, built from options: what the Node handler (`node/hub-handler.ts`) and
 * the fetch handler (`web/mercure-fetch-handler.ts`) each mount.
 */
export interface MercureService {
  readonly hub: Hub
  readonly store: EventStore
  /** Verifies subscribers' tokens (apps reuse it for the tokens they issue). */
  readonly subscriberVerifier: JwtVerifier
  /** Answers the requests for `/.well-known/mercure` and below. */
  readonly protocol: MercureProtocol
  /** Ends every stream cleanly and stops watching the store (which stays open: it is the caller's). */
  close(): void
}

/**
 * Builds the hub and its protocol from options (verifiers and matcher included).
 *
 * @throws {RangeError} for a bound out of range; {@link createJwtVerifier}'s errors for a key that
 *   cannot verify.
 */
export function createMercureService(
  options: MercureServiceOptions,
  env: {
    /** Where store outages, key-set outages and refusals past hub-wide limits are logged. */
    logger: HubLogger
    /** Whether the server is shutting down (new subscriptions get 503). */
    closing: () => boolean
  },
): MercureService {
  const { store, metrics } = options
  const maxIdBytes = options.publishLimits?.maxIdBytes
  if (
    maxIdBytes !== undefined &&
    !(Number.isInteger(maxIdBytes) && maxIdBytes >= 1 && maxIdBytes <= MAX_ID_BYTES)
  ) {
    throw new RangeError(
      `publishLimits.maxIdBytes must be a whole number from 1 to ${MAX_ID_BYTES} (an id must fit in a Last-Event-ID header); got ${maxIdBytes}.`,
    )
  }
  const matcher = createSelectorMatcher()
  const matches = (selector: string, topic: string): boolean => matcher.matches(selector, topic)
  const publisherVerifier = createJwtVerifier({
    key: options.publisherKey,
    algorithms: options.publisherAlgorithms ?? undefined,
    keyName: options.keyNames.publisher,
  })
  const subscriberVerifier = createJwtVerifier({
    key: options.subscriberKey,
    algorithms: options.subscriberAlgorithms ?? undefined,
    keyName: options.keyNames.subscriber,
  })
  const protocols = new Set<MercureProtocolVersion>(options.protocols ?? ['1.0', '0.x'])
  for (const version of protocols) {
    if (version !== '1.0' && version !== '0.x') {
      throw new RangeError(
        `protocols lists ${JSON.stringify(version)}: only '1.0' and '0.x' exist.`,
      )
    }
  }
  if (protocols.size === 0) throw new RangeError("protocols is empty: list '1.0', '0.x' or both.")
  const issuers = options.trustedIssuers ?? []
  const accessTokenVerifiers = protocols.has('1.0')
    ? {
        publisher: createAccessTokenVerifier({
          issuers,
          role: 'publisher',
          defaultKey: options.publisherKey,
          defaultAlgorithms: options.publisherAlgorithms ?? undefined,
          keyName: options.keyNames.publisher,
        }),
        subscriber: createAccessTokenVerifier({
          issuers,
          role: 'subscriber',
          defaultKey: options.subscriberKey,
          defaultAlgorithms: options.subscriberAlgorithms ?? undefined,
          keyName: options.keyNames.subscriber,
        }),
      }
    : null
  // A full disk fails every publish and every subscription event alike: one line when the store
  // starts failing, one when a commit goes through again.
  const storeFailures = createOutageLog({
    logger: env.logger,
    failing: 'store unavailable',
    recovered: 'store available again',
  })
  // Loaded before anything is made: a missing @opentelemetry/api throws with nothing to undo.
  const tracer = options.tracer
    ? createOtelRequestTracer(options.tracer, "ssehub's tracing (the tracer option)")
    : null
  const stopWatchingStore = store.onCommit(() => storeFailures.succeeded())
  const hub = createHub({
    store,
    matcher,
    subscriptionEvents: options.subscriptions ?? false,
    // A store shared by several nodes (Redis) records every node's subscribers, whether or not the
    // subscriptions API lists them: each node's heartbeat reports its count from them (the
    // dashboard's cluster table), and a survivor announces a lost node's from them (webhooks).
    ...(isSubscriptionDirectory(store) ? { directory: store } : {}),
    // Subscription events are live, never history: a shared store relays them between nodes.
    ...(options.subscriptions ? { relay: subscriptionEventRelayOf(store) } : {}),
    ...(options.subscriptionEventLimits
      ? { subscriptionEventLimits: options.subscriptionEventLimits }
      : {}),
    maxLifetimeMs:
      options.maxLifetimeMs === undefined ? DEFAULT_MAX_LIFETIME_MS : options.maxLifetimeMs,
    ...options.subscriptionLimits,
    ...(metrics ? { metrics } : {}),
    onError: (error) => {
      if (error instanceof StoreUnavailableError) storeFailures.failed(error)
      else env.logger.error({ err: error }, 'hub error')
    },
  })
  metrics?.observe?.({ subscribers: () => hub.subscribers.size, historySize: () => store.size() })
  const untraced = createMercureProtocol({
    hub,
    matches,
    matcher,
    publisherVerifier,
    subscriberVerifier,
    anonymous: options.anonymous ?? false,
    publishOrigins: options.publishOrigins ?? [],
    cors: createCors({ origins: options.corsOrigins ?? [] }),
    cookieName: options.cookieName,
    protocols,
    accessTokenVerifiers,
    resourceIdentifier: options.resourceIdentifier,
    publicUrls: options.publicUrls,
    authorizationServers: issuers
      .filter((issuer) => issuer.authorizationServer === true)
      .map((issuer) => issuer.issuer),
    maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    bodyTimeoutMs:
      options.bodyTimeoutMs === undefined ? DEFAULT_BODY_TIMEOUT_MS : options.bodyTimeoutMs,
    ...(options.publishLimits ? { publishLimits: options.publishLimits } : {}),
    subscriptionsApi: options.subscriptions ?? false,
    logger: env.logger,
    storeFailures,
    closing: env.closing,
    traced: tracer !== null,
  })
  const protocol = tracer === null ? untraced : tracedProtocol(untraced, tracer)
  return {
    hub,
    store,
    subscriberVerifier,
    protocol,
    close: () => {
      stopWatchingStore()
      hub.close()
    },
  }
}

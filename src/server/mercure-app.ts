import type { OutgoingHttpHeaders } from 'node:http'
import type { EventStream } from '../core/event-stream.ts'
import { createHub, type Hub } from '../hub/hub.ts'
import { createJwtVerifier, type JwtVerifier } from '../hub/jwt-verifier.ts'
import { createSelectorMatcher } from '../hub/topic-selector.ts'
import type { EventStore } from '../storage/store.ts'
import { isSubscriptionDirectory } from '../storage/subscription-directory.ts'
import { createCors } from './cors.ts'
import type { NodeRequest, NodeResponse } from './event-stream-response.ts'
import type { Logger } from './logger.ts'
import { createMercureHandler } from './mercure-handler.ts'
import type { Metrics } from './metrics.ts'

/** Options for the Mercure hub mounted on the server. */
export interface MercureAppOptions {
  /** Where updates are committed and history is read. The caller owns it (and closes it). */
  store: EventStore
  /** Key verifying publishers' tokens: secret, PEM, JWKS URL or JWKS file. */
  publisherKey: string
  /** Key verifying subscribers' tokens. */
  subscriberKey: string
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
  /** The authorization cookie's name. Defaults to `'mercureAuthorization'`. */
  cookieName?: string
  /** Largest publish body, in bytes. Defaults to `1048576` (1 MiB). */
  maxBodyBytes?: number
  /** Longest connection in milliseconds (randomized 80–100 %), `null` for none. Defaults to `600000`. */
  maxLifetimeMs?: number | null
  /** Prometheus metrics to report to. Defaults to none. */
  metrics?: Metrics | null
}

/** The hub, mounted: its handler for `/.well-known/mercure`, and its readiness. */
export interface MercureApp {
  readonly hub: Hub
  readonly store: EventStore
  /** Verifies subscribers' tokens (apps reuse it for the tokens they issue). */
  readonly subscriberVerifier: JwtVerifier
  handle(req: NodeRequest, res: NodeResponse, url: URL): Promise<boolean>
  close(): void
}

/** Builds the hub and its HTTP handler from options (verifiers and matcher included). */
export function createMercureApp(
  options: MercureAppOptions,
  server: {
    logger: Logger
    openStream: (req: NodeRequest, res: NodeResponse, headers: OutgoingHttpHeaders) => EventStream
    closing: () => boolean
  },
): MercureApp {
  const { store, metrics } = options
  const matcher = createSelectorMatcher()
  const matches = (selector: string, topic: string): boolean => matcher.matches(selector, topic)
  const publisherVerifier = createJwtVerifier({
    key: options.publisherKey,
    algorithms: options.publisherAlgorithms ?? undefined,
    keyName: 'SSEHUB_PUBLISHER_JWT_KEY',
  })
  const subscriberVerifier = createJwtVerifier({
    key: options.subscriberKey,
    algorithms: options.subscriberAlgorithms ?? undefined,
    keyName: 'SSEHUB_SUBSCRIBER_JWT_KEY',
  })
  const hub = createHub({
    store,
    matcher,
    subscriptionEvents: options.subscriptions ?? false,
    // A store shared by several nodes (Redis) lists every node's subscriptions; only worth its
    // writes when the subscriptions API is on.
    ...(options.subscriptions && isSubscriptionDirectory(store) ? { directory: store } : {}),
    maxLifetimeMs: options.maxLifetimeMs === undefined ? 600_000 : options.maxLifetimeMs,
    ...(metrics ? { metrics } : {}),
    onError: (error) => server.logger.error({ err: error }, 'hub error'),
  })
  metrics?.observe({ subscribers: () => hub.subscribers.size, historySize: () => store.size() })
  const handle = createMercureHandler({
    hub,
    matches,
    matcher,
    publisherVerifier,
    subscriberVerifier,
    anonymous: options.anonymous ?? false,
    publishOrigins: options.publishOrigins ?? [],
    cors: createCors({ origins: options.corsOrigins ?? [] }),
    cookieName: options.cookieName ?? 'mercureAuthorization',
    maxBodyBytes: options.maxBodyBytes ?? 1_048_576,
    subscriptionsApi: options.subscriptions ?? false,
    openStream: server.openStream,
    logger: server.logger,
    closing: server.closing,
  })
  return { hub, store, subscriberVerifier, handle, close: () => hub.close() }
}

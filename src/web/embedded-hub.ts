import { createHeartbeat, type Heartbeat } from '../core/heartbeat.ts'
import type { HubLogger } from '../http/hub-logger.ts'
import { createMercureService, type MercureServiceOptions } from '../http/mercure-service.ts'
import type { EventStore } from '../hub/event-store.ts'
import { loadJose } from '../hub/jose.ts'
import { createMemoryStore } from '../storage/memory.ts'
import { consoleLogger, silentLogger } from './console-logger.ts'

// What `ssehub/node`'s and `ssehub/web`'s handlers share: their options, and the hub they build
// from them. Each adds only how it reads bodies and opens streams.

/**
 * The options `ssehub/node`'s and `ssehub/web`'s handlers share: keys, store, stream bounds and
 * logger; the hub's bounds (`maxBodyBytes`, `publishLimits`, `subscriptionLimits`,
 * `maxLifetimeMs`, …) are those of the `ssehub` server, with the same defaults.
 */
export interface EmbeddedHubOptions
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
  /**
   * How configuration errors name the keys, for keys read from settings of your own (environment
   * variables, a configuration file), so that a message says which one to fix. Defaults to the
   * options' names: `key`, or `publisherKey` and `subscriberKey`.
   */
  keyNames?: { publisher: string; subscriber: string } | undefined
  /** Milliseconds between keep-alive comments on every stream, `null` for none. Defaults to `15000`. */
  heartbeatMs?: number | null
  /**
   * A heartbeat to share with streams of your own (`createHeartbeat` of `ssehub`): one timer then
   * keeps every stream alive, and `heartbeatMs` is not read. It stays yours: `close()` leaves it
   * running. Defaults to one of the handler's own, every `heartbeatMs`.
   */
  heartbeat?: Heartbeat | undefined
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

/** The hub a handler serves, built from its options. */
export interface EmbeddedHub {
  readonly service: ReturnType<typeof createMercureService>
  readonly store: EventStore
  readonly logger: HubLogger
  /** The stream options the handler's streams start from. */
  readonly streamOptions: {
    heartbeat: Heartbeat | null
    maxQueueBytes?: number
    stallTimeoutMs?: number | null
  }
  /** Ends every stream, refuses new subscriptions, and closes the store when it made it. */
  close(): Promise<void>
}

/**
 * Builds the hub of a handler made by `factory` (named in the error without a key).
 *
 * @throws {TypeError} without a key; other option mistakes throw from the service, after the
 *   store the handler made is closed again.
 * @throws {MissingPackageError} when jose is not installed, naming `factory`.
 */
export function embedHub(factory: string, options: EmbeddedHubOptions): EmbeddedHub {
  const {
    key,
    publisherKey = key,
    subscriberKey = key,
    store: given,
    keyNames,
    heartbeatMs,
    heartbeat,
    maxQueueBytes,
    stallTimeoutMs,
    logger: givenLogger,
    ...settings
  } = options
  if (publisherKey === undefined || subscriberKey === undefined) {
    throw new TypeError(
      `${factory} needs a key to verify tokens: pass \`key\` (a shared secret of at least 32 bytes, a PEM public key, or a JWKS URL or file), or both \`publisherKey\` and \`subscriberKey\`.`,
    )
  }
  // jose verifies the tokens, and is an optional dependency: when it is missing, the message
  // names this factory, and nothing (no store, no timer) has been made yet.
  loadJose(factory)
  const logger = givenLogger === undefined ? consoleLogger : (givenLogger ?? silentLogger)
  const streamOptions: EmbeddedHub['streamOptions'] = {
    heartbeat:
      heartbeat !== undefined
        ? heartbeat
        : heartbeatMs === null
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
        // Unless told otherwise, configuration errors name the option the user set.
        keyNames: keyNames ?? {
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
  return {
    service,
    store,
    logger,
    streamOptions,
    async close() {
      if (closing) return
      closing = true
      service.close()
      if (given === undefined) await store.close()
    },
  }
}

import type { Registry } from 'prom-client'
import type { ClusterView, EventStore, LostNode } from '../hub/index.ts'
import type { EventStreamCloseReason } from '../index.ts'
import { type Logger, silentLogger } from './logger.ts'
import {
  DEFAULT_WEBHOOK_CLOSE_TIMEOUT_MS,
  DEFAULT_WEBHOOK_DROP_LOG_INTERVAL_MS,
  DEFAULT_WEBHOOK_LANES,
  DEFAULT_WEBHOOK_MAX_BACKOFF_MS,
  DEFAULT_WEBHOOK_MAX_QUEUE,
  DEFAULT_WEBHOOK_MAX_RETRY_AFTER_MS,
  DEFAULT_WEBHOOK_MIN_BACKOFF_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  MIN_WEBHOOK_SECRET_LENGTH,
} from './webhook-defaults.ts'
import {
  lostSubscriberEvent,
  type PendingEvent,
  subscriberEvent,
  type WebhookSubscriber,
} from './webhook-event.ts'
import { createWebhookMetrics } from './webhook-metrics.ts'
import { WebhookTarget, type WebhookTargetObserver } from './webhook-target.ts'
import { parseWebhookUrl } from './webhook-url.ts'

/** Options for {@link createPresenceWebhooks}. See docs/webhooks.md. */
export interface PresenceWebhookOptions {
  /**
   * Where to POST: `http:` or `https:` URLs, each with the events it takes in its fragment
   * (`https://app.example/hooks/presence#unsubscribe,node-lost`; none: every event). Required.
   */
  urls: readonly string[]
  /** Key of the HMAC-SHA256 signatures, at least 32 characters. Required; never logged. */
  secret: string
  /** Events queued per URL at most; past it new ones are dropped and counted. Defaults to `10000`. */
  maxQueue?: number
  /** Longest one POST may take, body included, in milliseconds. Defaults to `10000`. */
  timeoutMs?: number
  /** POSTs in flight at once per URL (order holds per subscriber). Defaults to `8`. */
  lanes?: number
  /** First retry delay, in milliseconds, doubling up to `maxBackoffMs`. Defaults to `500`. */
  minBackoffMs?: number
  /** Longest delay between two attempts, in milliseconds. Defaults to `30000`. */
  maxBackoffMs?: number
  /** Longest `Retry-After` honoured, in milliseconds. Defaults to `60000`. */
  maxRetryAfterMs?: number
  /** How long `close()` keeps delivering, in milliseconds, before giving up. Defaults to `5000`. */
  closeTimeoutMs?: number
  /** Least time between two "queue full" warnings, in milliseconds. Defaults to `10000`. */
  dropLogIntervalMs?: number
  /**
   * This node's id, sent as each event's `node`. Defaults to the cluster's `nodeId` when
   * `cluster` is set, else `null`.
   */
  nodeId?: string | null
  /**
   * A shared store's cluster: its lost nodes' subscribers are announced as gone. Watched only when
   * a URL takes `node-lost` (with Redis, only a watching node claims lost nodes). Defaults to none.
   */
  cluster?: ClusterView | null
  /** Where failures are logged (never the secret, a URL's path or its query). Defaults to silent. */
  logger?: Logger
  /** Registers the `ssehub_webhook_*` metrics there. Defaults to none. */
  registry?: Registry | null
}

/**
 * Presence webhooks: the hub's `subscribed`/`disconnected` hooks (give it to the hub's `metrics`,
 * through `combineMetrics`) turned into signed POSTs, queued per URL and delivered at least once,
 * in order per subscriber.
 */
export interface PresenceWebhooks {
  /** Queues a `subscribe` event. O(1); never throws, never waits. */
  subscribed(subscriber: WebhookSubscriber): void
  /** Queues an `unsubscribe` event. O(1); never throws, never waits. */
  disconnected(reason: EventStreamCloseReason, subscriber: WebhookSubscriber): void
  /** Queues an `unsubscribe` (reason `node-lost`) for each of a lost node's subscribers. */
  nodeLost(node: LostNode): void
  /** Each URL's label (origin, and its position when two share one) and its events waiting. */
  readonly targets: readonly { readonly label: string; readonly queued: number }[]
  /**
   * Stops listening to the cluster, delivers what is queued for at most `closeTimeoutMs`, then
   * drops the rest (logged, counted). Resolves with the count dropped.
   */
  close(): Promise<number>
}

/**
 * Creates the {@link PresenceWebhooks}.
 *
 * @throws {TypeError} for a URL that cannot be used, {@link RangeError} for a short secret; the
 * messages never quote the secret nor a URL.
 */
export function createPresenceWebhooks(options: PresenceWebhookOptions): PresenceWebhooks {
  if (options.secret.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new RangeError(
      `The webhook secret is shorter than ${MIN_WEBHOOK_SECRET_LENGTH} characters: use a random one, e.g. from "openssl rand -hex 32".`,
    )
  }
  if (options.urls.length === 0) throw new TypeError('Presence webhooks need at least one URL.')
  const logger = options.logger ?? silentLogger()
  const urls = options.urls.map((text, i) => {
    try {
      return parseWebhookUrl(text)
    } catch (error) {
      throw new TypeError(`Webhook URL ${i + 1} ${(error as Error).message}.`)
    }
  })
  const targets: WebhookTarget[] = []
  let observer: WebhookTargetObserver = {}
  if (options.registry) observer = createWebhookMetrics(options.registry, () => targets)
  urls.forEach((url, i) => {
    const shared = urls.filter((other) => other.origin === url.origin).length > 1
    const label = shared ? `${url.origin} #${i + 1}` : url.origin
    if (url.insecure) {
      logger.warn(
        { target: label },
        'webhook URL is plain http to a host that is not loopback: presence data crosses the network unencrypted (the signature still authenticates it); use https',
      )
    }
    targets.push(
      new WebhookTarget({
        url: url.url,
        label,
        events: url.events,
        secret: options.secret,
        maxQueue: options.maxQueue ?? DEFAULT_WEBHOOK_MAX_QUEUE,
        timeoutMs: options.timeoutMs ?? DEFAULT_WEBHOOK_TIMEOUT_MS,
        lanes: options.lanes ?? DEFAULT_WEBHOOK_LANES,
        minBackoffMs: options.minBackoffMs ?? DEFAULT_WEBHOOK_MIN_BACKOFF_MS,
        maxBackoffMs: options.maxBackoffMs ?? DEFAULT_WEBHOOK_MAX_BACKOFF_MS,
        maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_WEBHOOK_MAX_RETRY_AFTER_MS,
        dropLogIntervalMs: options.dropLogIntervalMs ?? DEFAULT_WEBHOOK_DROP_LOG_INTERVAL_MS,
        logger,
        observer,
      }),
    )
  })

  const cluster = options.cluster ?? null
  // Known synchronously: a node's first events (subscribers that connect as it starts) carry it.
  const nodeId = options.nodeId !== undefined ? options.nodeId : (cluster?.nodeId ?? null)
  const node = (): string | null => nodeId
  const enqueue = (event: PendingEvent): void => {
    for (const target of targets) target.enqueue(event)
  }
  const webhooks: PresenceWebhooks = {
    subscribed(subscriber) {
      enqueue(subscriberEvent(subscriber, null, node))
    },
    disconnected(reason, subscriber) {
      enqueue(subscriberEvent(subscriber, reason, node))
    },
    nodeLost(lost) {
      logger.info(
        { node: lost.id, subscribers: lost.subscribers.length },
        'cluster node lost: announcing its subscribers as gone',
      )
      for (const subscriber of lost.subscribers) enqueue(lostSubscriberEvent(subscriber, lost.id))
    },
    targets,
    async close() {
      stopWatching()
      const grace = options.closeTimeoutMs ?? DEFAULT_WEBHOOK_CLOSE_TIMEOUT_MS
      const left = await Promise.all(targets.map((target) => target.close(grace)))
      const total = left.reduce((sum, count) => sum + count, 0)
      if (total > 0) {
        logger.warn({ dropped: total }, 'webhook events left undelivered at shutdown')
      }
      return total
    },
  }
  // Listening is what makes a Redis node claim lost nodes: a node none of whose URLs takes
  // `node-lost` must not, or it would take the loss from a node that announces it and drop it.
  const announcesLost = urls.some((url) => url.events.has('node-lost'))
  const stopWatching =
    cluster === null || !announcesLost ? () => {} : cluster.onNodeLost(webhooks.nodeLost)
  return webhooks
}

/**
 * The webhooks of an `SsehubServer`'s options, or `null` when they have none: their metrics on the
 * server's registry, the cluster of the hub's store watched (when a URL takes `node-lost`), the
 * server's logger.
 */
export function serverWebhooks(
  options: {
    webhooks?: PresenceWebhookOptions | null
    metrics?: { readonly registry: Registry } | null
    mercure?: { readonly store?: EventStore | undefined } | null
  },
  logger: Logger,
): PresenceWebhooks | null {
  if (!options.webhooks) return null
  return createPresenceWebhooks({
    logger,
    registry: options.metrics?.registry ?? null,
    cluster: options.mercure?.store?.cluster ?? null,
    ...options.webhooks,
  })
}

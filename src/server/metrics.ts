import type { Registry } from 'prom-client'
import type { EventStreamCloseReason } from '../index.ts'
import type { MercureMetrics } from '../node/index.ts'
import { loadPromClient } from './cli-packages.ts'

/**
 * The hub's Prometheus metrics: the only module that makes prom-client metrics (`cli-packages.ts` loads prom-client). The hub reports to them
 * through `MercureMetrics`, the interface `ssehub/node` takes, so any other metrics library fits
 * the same place.
 */
export interface Metrics extends Required<MercureMetrics> {
  /** The registry, for `/metrics`. */
  readonly registry: Registry
  /** Receives how the connected-subscribers and history-size gauges are read at scrape time. */
  observe(sources: { subscribers: () => number; historySize: () => Promise<number> }): void
}

/** Creates a fresh registry with ssehub's metrics and Node's default process metrics. */
export function createMetrics(): Metrics {
  const { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } = loadPromClient()
  const registry = new Registry()
  collectDefaultMetrics({ register: registry, prefix: 'ssehub_' })
  let sources: { subscribers: () => number; historySize: () => Promise<number> } | undefined
  new Gauge({
    name: 'ssehub_subscribers',
    help: 'Connected subscribers.',
    registers: [registry],
    collect() {
      this.set(sources?.subscribers() ?? 0)
    },
  })
  new Gauge({
    name: 'ssehub_history_size',
    help: 'Updates retained in the history.',
    registers: [registry],
    async collect() {
      this.set(sources ? await sources.historySize().catch(() => 0) : 0)
    },
  })
  const published = new Counter({
    name: 'ssehub_updates_published_total',
    help: 'Updates committed.',
    registers: [registry],
  })
  const delivered = new Counter({
    name: 'ssehub_updates_delivered_total',
    help: 'Updates written to subscribers (one per subscriber).',
    registers: [registry],
  })
  const subscriptions = new Counter({
    name: 'ssehub_subscriptions_total',
    help: 'Subscriber connections opened.',
    registers: [registry],
  })
  const disconnections = new Counter({
    name: 'ssehub_disconnections_total',
    help: 'Subscriber connections closed, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  })
  // One child per reason, made on first use: `inc({ reason })` would sort and hash the labels of
  // every closing connection.
  const disconnectionsBy = new Map<EventStreamCloseReason, { inc(): void }>()
  const subscriptionEventsDropped = new Counter({
    name: 'ssehub_subscription_events_dropped_total',
    help: 'Subscription events not sent, by reason (selectors past the cap, client address over its rate, recipient congested).',
    labelNames: ['reason'],
    registers: [registry],
  })
  const latency = new Histogram({
    name: 'ssehub_publish_duration_seconds',
    help: 'Time from a publish reaching the hub to its commit.',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  })
  return {
    registry,
    observe(next) {
      sources = next
    },
    published(_update, seconds) {
      published.inc()
      latency.observe(seconds)
    },
    delivered(count) {
      delivered.inc(count)
    },
    subscribed() {
      subscriptions.inc()
    },
    disconnected(reason: EventStreamCloseReason) {
      let counter = disconnectionsBy.get(reason)
      if (counter === undefined) {
        counter = disconnections.labels({ reason })
        disconnectionsBy.set(reason, counter)
      }
      counter.inc()
    },
    subscriptionEventsDropped(count, reason) {
      subscriptionEventsDropped.inc({ reason }, count)
    },
  }
}

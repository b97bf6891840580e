import type { Registry } from 'prom-client'
import { loadPromClient } from './cli-packages.ts'
import type { WebhookTargetObserver } from './webhook-target.ts'

/**
 * Registers the `ssehub_webhook_*` metrics on `registry` and returns the observer that feeds
 * them; `queued` is read at scrape time for the queue-length gauge, per target.
 */
export function createWebhookMetrics(
  registry: Registry,
  queued: () => Iterable<{ readonly label: string; readonly queued: number }>,
): WebhookTargetObserver {
  const { Counter, Gauge } = loadPromClient()
  const deliveries = new Counter({
    name: 'ssehub_webhook_deliveries_total',
    help: 'Webhook POSTs, by target and result (success, rejected, server-error, throttled, timeout, network-error).',
    labelNames: ['target', 'result'],
    registers: [registry],
  })
  const retries = new Counter({
    name: 'ssehub_webhook_retries_total',
    help: 'Webhook POSTs that failed and will be tried again, by target.',
    labelNames: ['target'],
    registers: [registry],
  })
  const dropped = new Counter({
    name: 'ssehub_webhook_events_dropped_total',
    help: 'Webhook events given up on, by target and reason (queue-full, rejected, shutdown).',
    labelNames: ['target', 'reason'],
    registers: [registry],
  })
  new Gauge({
    name: 'ssehub_webhook_queue_length',
    help: 'Webhook events waiting to be delivered, by target.',
    labelNames: ['target'],
    registers: [registry],
    collect() {
      for (const target of queued()) this.set({ target: target.label }, target.queued)
    },
  })
  return {
    attempted(target, result) {
      deliveries.inc({ target, result })
    },
    retried(target) {
      retries.inc({ target })
    },
    dropped(target, reason, count) {
      dropped.inc({ target, reason }, count)
    },
  }
}

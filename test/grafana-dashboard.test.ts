import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { createMetrics } from '../src/server/metrics.ts'

// docs/grafana-dashboard.json is built on the metric names the hub exports: every query in it
// (panels and template variables) must name metrics that `/metrics` serves, so a renamed metric
// cannot leave an empty panel behind.

const DASHBOARD = new URL('../docs/grafana-dashboard.json', import.meta.url)

/** PromQL's functions and aggregations that the dashboard may call. */
const FUNCTIONS = new Set([
  'sum',
  'max',
  'min',
  'avg',
  'count',
  'rate',
  'irate',
  'increase',
  'histogram_quantile',
  'label_values',
  'clamp_min',
  'clamp_max',
  'topk',
])

/**
 * The metric names a PromQL expression reads: label matchers, ranges, strings and the label lists
 * of `by (…)` are removed first; what is left followed by `(` must be a known function, and every
 * other identifier is a metric name.
 */
function metricNames(expr: string): { metrics: string[]; unknownFunctions: string[] } {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '')
    // Grafana's `label_values(metric, label)`: its last argument is a label, not a metric.
    .replace(/\blabel_values\(([^,)]*),[^)]*\)/g, 'label_values($1)')
  const metrics: string[] = []
  const unknownFunctions: string[] = []
  for (const match of bare.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?/g)) {
    const name = match[0].replace(/\s*\($/, '')
    if (match[1] !== undefined) {
      if (!FUNCTIONS.has(name)) unknownFunctions.push(name)
    } else if (!/^(and|or|unless|bool|offset)$/.test(name)) {
      metrics.push(name)
    }
  }
  return { metrics, unknownFunctions }
}

/** Every query string of a dashboard: panel targets and template variables. */
function queriesOf(dashboard: {
  panels: Array<{ targets?: Array<{ expr: string }> }>
  templating: { list: Array<{ query: string | { query: string } }> }
}): string[] {
  const queries = dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr))
  for (const variable of dashboard.templating.list) {
    queries.push(typeof variable.query === 'string' ? variable.query : variable.query.query)
  }
  return queries
}

/**
 * The series names `/metrics` serves: each metric (also one not observed yet, which the text
 * format leaves out), and a histogram's `_bucket`, `_sum` and `_count`.
 */
async function exportedNames(): Promise<Set<string>> {
  const metrics = createMetrics()
  metrics.observe({ subscribers: () => 0, historySize: async () => 0 })
  const names = new Set<string>()
  for (const metric of await metrics.registry.getMetricsAsJSON()) {
    names.add(metric.name)
    if (String(metric.type) === 'histogram') {
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${suffix}`)
    }
  }
  return names
}

describe('docs/grafana-dashboard.json', () => {
  it('queries only metrics the hub exports, with functions PromQL has', async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'))
    const exported = await exportedNames()
    const queries = queriesOf(dashboard)
    assert.ok(queries.length >= 10, `${queries.length} queries`)
    const used = new Set<string>()
    for (const query of queries) {
      const { metrics, unknownFunctions } = metricNames(query)
      assert.deepEqual(unknownFunctions, [], query)
      assert.ok(metrics.length > 0, `no metric in ${query}`)
      for (const name of metrics) {
        assert.ok(exported.has(name), `${name} (in ${query}) is not served by /metrics`)
        used.add(name)
      }
    }
    // Every metric of the hub's own (not Node's process metrics) has a panel.
    for (const name of [
      'ssehub_subscribers',
      'ssehub_history_size',
      'ssehub_updates_published_total',
      'ssehub_updates_delivered_total',
      'ssehub_subscriptions_total',
      'ssehub_disconnections_total',
      'ssehub_subscription_events_dropped_total',
      'ssehub_publish_duration_seconds_bucket',
    ]) {
      assert.ok(used.has(name), `no panel shows ${name}`)
    }
  })

  it('would catch a query on a metric that does not exist', async () => {
    const exported = await exportedNames()
    const { metrics } = metricNames(
      'sum by (reason) (rate(ssehub_disconnects_total{instance=~"$instance"}[5m]))',
    )
    assert.deepEqual(metrics, ['ssehub_disconnects_total'])
    assert.equal(exported.has('ssehub_disconnects_total'), false)
    assert.deepEqual(metricNames('sum(ratez(ssehub_subscribers[1m]))').unknownFunctions, ['ratez'])
    assert.deepEqual(
      metricNames('max by (instance) (ssehub_process_open_fds / ssehub_process_max_fds)').metrics,
      ['ssehub_process_open_fds', 'ssehub_process_max_fds'],
    )
  })

  it('is a dashboard Grafana imports: a Prometheus input, unique panel ids, a grid that fits', () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'))
    assert.equal(dashboard.__inputs[0].pluginId, 'prometheus')
    const ids = dashboard.panels.map((panel: { id: number }) => panel.id)
    assert.equal(new Set(ids).size, ids.length)
    for (const panel of dashboard.panels) {
      assert.ok(panel.gridPos.x + panel.gridPos.w <= 24, panel.title)
      // Grafana's import placeholder for the data source chosen, not a template literal.
      assert.equal(panel.datasource.uid, ['$', '{DS_PROMETHEUS}'].join(''))
    }
  })
})

// @ts-check
// The live dashboard: one `stats` event a second from /admin/stats (the session cookie goes with
// it: same origin, path /admin), drawn as moving charts and bar lists. Each figure is also kept
// raw in its element's data-value, for scripts and tests. See docs/dashboard.md.
import { createLineChart, formatBytes, formatNumber, renderBars } from './charts.js'

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id))
const svg = (/** @type {string} */ id) =>
  /** @type {SVGSVGElement} */ (/** @type {unknown} */ ($(id)))

const charts = {
  subscribers: createLineChart(svg('chart-subscribers'), [{ name: 'subscribers' }]),
  rates: createLineChart(svg('chart-rates'), [{ name: 'publishes' }, { name: 'deliveries' }], {
    unit: '/s',
  }),
  dispatch: createLineChart(svg('chart-dispatch'), [{ name: 'p50' }, { name: 'p99' }], {
    unit: ' ms',
  }),
  commit: createLineChart(svg('chart-commit'), [{ name: 'p50' }, { name: 'p99' }], {
    unit: ' ms',
  }),
}

/**
 * @param {string} id
 * @param {number | null | undefined} value
 * @param {string} [text] what to show instead of the number
 */
function show(id, value, text) {
  const element = $(id)
  element.textContent = text ?? formatNumber(value)
  element.dataset.value = value === null || value === undefined ? '' : String(value)
}

/**
 * @typedef {{ p50: number | null, p99: number | null, count: number }} Percentiles
 * @typedef {{ id: string, self: boolean, alive: boolean, subscribers: number, lagMs: number | null, seenAt: number }} ClusterNode
 * @typedef {{
 *   at: number, intervalMs: number, subscribers: number, publishedTotal: number,
 *   deliveredTotal: number, publishesPerSecond: number, deliveriesPerSecond: number,
 *   dispatchMs: Percentiles, commitMs: Percentiles,
 *   slowest: { id: string, queuedBytes: number, selectors: string[] }[],
 *   cuts: Record<string, number>, cutsTotal: Record<string, number>,
 *   store: { kind: string, size: number | null } | null,
 *   topSelectors: { key: string, count: number }[],
 *   topTopics: { key: string, perSecond: number }[],
 *   nodes: ClusterNode[] | null
 * }} Snapshot
 */

/** @param {Snapshot} s */
function render(s) {
  show('subscribers', s.subscribers)
  show('publishes', s.publishesPerSecond)
  show('deliveries', s.deliveriesPerSecond)
  show('published-total', s.publishedTotal)
  show('delivered-total', s.deliveredTotal)
  show('dispatch-p50', s.dispatchMs.p50)
  show('dispatch-p99', s.dispatchMs.p99)
  show('commit-p50', s.commitMs.p50)
  show('commit-p99', s.commitMs.p99)
  show('store-size', s.store?.size)
  $('store-kind').textContent = s.store ? s.store.kind : ''
  charts.subscribers.push([s.subscribers])
  charts.rates.push([s.publishesPerSecond, s.deliveriesPerSecond])
  charts.dispatch.push([s.dispatchMs.p50, s.dispatchMs.p99])
  charts.commit.push([s.commitMs.p50, s.commitMs.p99])

  renderBars(
    $('slowest'),
    s.slowest.map((c) => ({
      label: `${c.id.replace(/^urn:uuid:/, '').slice(0, 8)} ${c.selectors.join(' ')}`,
      value: c.queuedBytes,
      text: formatBytes(c.queuedBytes),
    })),
  )
  renderBars(
    $('top-selectors'),
    s.topSelectors.map((t) => ({ label: t.key, value: t.count })),
  )
  renderBars(
    $('top-topics'),
    s.topTopics.map((t) => ({ label: t.key, value: t.perSecond })),
  )
  renderCuts(s.cuts, s.cutsTotal)
  renderNodes(s.nodes)
  const updated = /** @type {HTMLTimeElement} */ ($('updated'))
  updated.dateTime = new Date(s.at).toISOString()
  updated.textContent = new Date(s.at).toLocaleTimeString()
}

/**
 * @param {Record<string, number>} cuts
 * @param {Record<string, number>} totals
 */
function renderCuts(cuts, totals) {
  const reasons = Object.keys(totals).sort((a, b) => (totals[b] ?? 0) - (totals[a] ?? 0))
  const rows = reasons.map((reason) => {
    const row = document.createElement('tr')
    row.dataset.reason = reason
    for (const text of [reason, formatNumber(cuts[reason] ?? 0), formatNumber(totals[reason])]) {
      const cell = document.createElement('td')
      cell.textContent = text
      row.append(cell)
    }
    return row
  })
  if (rows.length === 0) {
    const row = document.createElement('tr')
    const cell = document.createElement('td')
    cell.textContent = 'None yet.'
    row.append(cell)
    rows.push(row)
  }
  $('cuts').replaceChildren(...rows)
}

/** @param {ClusterNode[] | null} nodes */
function renderNodes(nodes) {
  $('cluster').hidden = nodes === null
  if (nodes === null) return
  $('nodes').replaceChildren(
    ...nodes.map((node) => {
      const row = document.createElement('tr')
      row.dataset.alive = String(node.alive)
      const cells = [
        node.self ? `${node.id} (this one)` : node.id,
        node.alive ? 'alive' : 'lost',
        formatNumber(node.subscribers),
        node.lagMs === null ? '–' : `${formatNumber(node.lagMs)} ms`,
        `${Math.max(0, Math.round((Date.now() - node.seenAt) / 1000))} s ago`,
      ]
      for (const text of cells) {
        const cell = document.createElement('td')
        cell.textContent = text
        row.append(cell)
      }
      return row
    }),
  )
}

const state = $('state')
const source = new EventSource('/admin/stats')
source.addEventListener('open', () => {
  state.dataset.state = 'open'
  state.textContent = 'live'
})
source.addEventListener('error', () => {
  // The browser reconnects by itself; after a 401 (the session expired) it stops: sign in again.
  const closed = source.readyState === EventSource.CLOSED
  state.dataset.state = closed ? 'closed' : 'connecting'
  state.textContent = closed ? 'disconnected: reload to sign in again' : 'reconnecting…'
})
source.addEventListener('stats', (event) => {
  render(/** @type {Snapshot} */ (JSON.parse(/** @type {MessageEvent<string>} */ (event).data)))
})

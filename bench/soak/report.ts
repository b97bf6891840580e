import type { SoakOptions } from './options.ts'
import type { StoreResult } from './verdict.ts'

const MIB = 1024 * 1024

/** The soak's report: one table row per store, then each store's details and failures. */
export function markdownReport(results: readonly StoreResult[], options: SoakOptions): string {
  const header = [
    'store',
    'result',
    'publishes (retried)',
    'MiB',
    'clients fast/slow/stalled/token/storm/earliest',
    'deliveries',
    'lost',
    'duplicated',
    'out of order',
    'not caught up',
    'readers cut',
    'stalled cut',
    'restarts',
    'RSS MiB per minute',
  ]
  const rows = results.map((r) =>
    r.status === 'skip'
      ? [r.store, `skipped: ${r.note}`, ...header.slice(2).map(() => '–')]
      : [
          r.store,
          r.status === 'pass' ? 'pass' : '**FAIL**',
          `${r.publishes} (${r.retried})`,
          (r.bytes / MIB).toFixed(1),
          `${r.clients.fast}/${r.clients.slow}/${r.clients.stalled}/${r.clients.token}/${r.clients.storm}/${r.clients.earliest}`,
          String(r.deliveries),
          String(r.lost),
          String(r.duplicated),
          String(r.outOfOrder),
          String(r.notCaughtUp),
          String(r.readerCuts),
          `${r.stallsCut}/${r.stalls}`,
          r.restarts.length === 0
            ? r.store === 'memory'
              ? '0 (by design)'
              : '0'
            : r.restarts.map((x) => `${x.signal.replace('SIG', '')}@${x.node}`).join(' '),
          r.rss.map((s) => `${s.node}: ${s.perMinuteMiB.join(' ')}`).join('; '),
        ],
  )
  const table = [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
  ].join('\n')
  const seconds = options.durationMs / 1000
  const lines = [
    `## Soak: ${seconds >= 60 ? `${seconds / 60} min` : `${seconds} s`} per store, seed ${options.seed}`,
    '',
    table,
    '',
  ]
  for (const r of results) {
    if (r.status === 'skip') continue
    const drops = describeCounts(r.hubDisconnections)
    const flat = r.rss
      .map((s) =>
        s.lastOverSecond === null
          ? `${s.node} max ${s.maxMiB} MiB (flatness needs ≥ 3 min)`
          : `${s.node} max ${s.maxMiB} MiB, last/second minute ${(s.lastOverSecond * 100).toFixed(0)} %`,
      )
      .join('; ')
    lines.push(`### ${r.store}: ${r.status}`, '')
    lines.push(
      `- load ${r.seconds.toFixed(0)} s; ${r.publishes} acknowledged (${r.retried} after a retry), ${r.unacknowledged} never; ${(r.deliveredBytes / MIB).toFixed(1)} MiB delivered`,
    )
    lines.push(
      `- deepest earliest catch-up: ${r.earliest === null ? 'none' : `a history of ${r.earliest.historyMiB.toFixed(1)} MiB at connect, ${r.earliest.ms === null ? 'never caught up' : `caught up in ${(r.earliest.ms / 1000).toFixed(1)} s`} (${r.earliest.receivedMiB.toFixed(1)} MiB received meanwhile)${r.earliest.historyMiB < 10 && r.seconds >= 60 ? '; under the 10 MiB aimed for: raise --history-size or the load' : ''}`}`,
    )
    lines.push(
      `- hub disconnections: ${drops}; reading clients' streams the hub ended cleanly outside restarts (lifetime): ${r.readerDrops}, cut: ${r.readerCuts}`,
    )
    lines.push(
      `- SseClient subscribers: ${r.tokens} tokens minted; error events ${describeCounts(r.tokenErrors)}; gave up (readyState CLOSED) and recreated from their lastEventId: ${r.tokenClientsGaveUp}`,
    )
    if (r.restarts.length > 0) {
      lines.push(
        `- restarts: ${r.restarts.map((x) => `${x.signal} ${x.node} at ${x.atSeconds.toFixed(0)} s (down ${(x.downMs / 1000).toFixed(1)} s)`).join('; ')}`,
      )
    }
    if (r.stallLog.length > 0) {
      lines.push(
        `- stalls: ${r.stallLog.map((s) => `${(s.bytesBehind / MIB).toFixed(1)} MiB behind, ${s.cut ? `cut (${s.how})` : 'not cut'}`).join('; ')}`,
      )
    }
    lines.push(`- RSS: ${flat}`)
    for (const failure of r.failures) lines.push(`- **failure**: ${failure}`)
    lines.push('')
  }
  return lines.join('\n')
}

function describeCounts(counts: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counts)
  return entries.length === 0 ? 'none' : entries.map(([key, count]) => `${key} ${count}`).join(', ')
}

import type { History } from './history.ts'
import { Ledger, type Update } from './ledger.ts'
import type { StoreKind } from './options.ts'
import type { Stall } from './raw-reader.ts'
import type { ClientKind, Reception } from './reception.ts'
import type { RssSummary } from './rss.ts'
import { emptyTimeline, type Timeline } from './timeline.ts'

/** How many examples a failure line names. */
const EXAMPLES = 5

/** One hub restart. */
export interface Restart {
  readonly node: string
  readonly signal: string
  /** Seconds into the load. */
  readonly atSeconds: number
  /** From the signal until the new process listened, in milliseconds. */
  readonly downMs: number
}

/** The deepest `earliest` catch-up of a store's run. */
export interface EarliestCatchUp {
  /** What the retained history held when it connected (from the ledger), in MiB. */
  readonly historyMiB: number
  /** What it received until caught up, in MiB. */
  readonly receivedMiB: number
  /** How long it took, in milliseconds, or `null` when it never caught up. */
  readonly ms: number | null
}

/** The figures and verdict of one store. */
export interface StoreResult {
  readonly store: StoreKind
  readonly status: 'pass' | 'fail' | 'skip'
  /** Why it was skipped. */
  readonly note: string
  readonly seconds: number
  /** Updates acknowledged (200, or 409 to a retry). */
  readonly publishes: number
  /** Updates that needed more than one attempt. */
  readonly retried: number
  /** Updates never acknowledged. */
  readonly unacknowledged: number
  /** Bytes of `data` acknowledged. */
  readonly bytes: number
  readonly clients: Readonly<Record<ClientKind, number>>
  readonly deliveries: number
  readonly deliveredBytes: number
  readonly lost: number
  readonly duplicated: number
  readonly outOfOrder: number
  readonly corrupt: number
  /** Reading clients that had not received their newest owed update at the end. */
  readonly notCaughtUp: number
  readonly stalls: number
  readonly stallsCut: number
  /** Subscriber disconnections the hubs counted, by reason (`overflow`, `expired`…). */
  readonly hubDisconnections: Readonly<Record<string, number>>
  /** Streams of reading clients the hub ended cleanly outside restarts (lifetime, `exp`). */
  readonly readerDrops: number
  /** Streams of reading clients the hub cut outside restarts: each is a failure. */
  readonly readerCuts: number
  readonly restarts: readonly Restart[]
  readonly tokens: number
  readonly tokenClientsGaveUp: number
  /** The SseClient subscribers' `error` events, by code (and status). */
  readonly tokenErrors: Readonly<Record<string, number>>
  readonly earliest: EarliestCatchUp | null
  readonly rss: readonly RssSummary[]
  /** Each stall of a stalled reader. */
  readonly stallLog: readonly Stall[]
  readonly failures: readonly string[]
  /** The run over time, for the charts. */
  readonly timeline: Timeline
}

/** What {@link judge} looks at. */
export interface Evidence {
  readonly store: StoreKind
  readonly seconds: number
  readonly ledger: Ledger
  readonly loadStart: number
  readonly receptions: readonly Reception[]
  readonly stalls: readonly Stall[]
  readonly stallBytes: number
  readonly history: History | null
  readonly historySize: number
  readonly hubDisconnections: Readonly<Record<string, number>>
  readonly restarts: readonly Restart[]
  readonly tokens: number
  readonly tokenClientsGaveUp: number
  readonly tokenErrors: Readonly<Record<string, number>>
  readonly earliest: EarliestCatchUp | null
  readonly rss: readonly RssSummary[]
  readonly timeline: Timeline
  /** Failures found while running (a hub that did not start…). */
  readonly errors: readonly string[]
}

/** Runs every check on a store's evidence and returns its figures and failures. */
export function judge(evidence: Evidence): StoreResult {
  const { ledger, receptions } = evidence
  const failures = [...evidence.errors]
  const at = (update: Update): string => {
    const seconds = ((update.ackAt ?? update.sentAt) - evidence.loadStart) / 1000
    return `${seconds < 0 ? '' : '+'}${seconds.toFixed(1)} s`
  }
  const shortTopic = (topic: string): string => topic.slice(topic.lastIndexOf(':') + 1)
  const describe = (reception: Reception): string =>
    `${reception.name} (${reception.kind}, topics ${[...reception.topics].map(shortTopic).join(',')})`

  const position = new Map<string, number>()
  if (evidence.history !== null) {
    const ids = evidence.history.ids
    ids.forEach((id, index) => {
      if (!position.has(id)) position.set(id, index)
    })
    const repeated = ids.filter((id, index) => position.get(id) !== index)
    if (repeated.length > 0) {
      failures.push(
        `the history holds ${repeated.length} duplicate ids: ${examples(repeated, (id) => id)}`,
      )
    }
    if (!evidence.history.complete) {
      failures.push(
        `the history read back from earliest ended before the newest update (${ids.length} ids read)`,
      )
    }
    // Updates older than the retained window may be trimmed; a margin covers concurrent commits.
    const floor = ledger.acked.length - evidence.historySize + 256
    const absent = ledger.acked.filter((u) => u.ordinal >= floor && !position.has(u.id))
    if (absent.length > 0 && evidence.history.complete) {
      failures.push(
        `the history lacks ${absent.length} acknowledged updates: ${examples(absent, (u) => `${u.id} (${at(u)})`)}`,
      )
    }
  }

  let lost = 0
  let duplicated = 0
  let outOfOrder = 0
  let corrupt = 0
  let notCaughtUp = 0
  for (const reception of receptions) {
    if (position.size > 0) reception.checkOrder(position)
    if (reception.checked) {
      const owed = reception.owed()
      const missing = owed.filter((update) => !reception.has(update.id))
      lost += missing.length
      const newest = owed.at(-1)
      if (newest !== undefined && !reception.has(newest.id)) notCaughtUp++
      if (missing.length > 0) {
        const unknown =
          reception.unknownCursors.length > 0
            ? `; the hub did not know its cursor ${reception.unknownCursors.slice(0, 2).join(', ')}`
            : ''
        failures.push(
          `${describe(reception)} lost ${missing.length} of ${owed.length}: ${examples(missing, (u) => `${u.id} (${shortTopic(u.topic)}, ${at(u)})`)}${newest !== undefined && !reception.has(newest.id) ? '; not caught up' : ''}${unknown}`,
        )
      }
    }
    if (reception.checked && reception.cuts > 0) {
      failures.push(
        `${describe(reception)} was cut ${reception.cuts} times by the hub while reading (reset before the response, or the response ended mid-stream; no restart)`,
      )
    }
    duplicated += reception.duplicates.length
    if (reception.duplicates.length > 0) {
      failures.push(
        `${describe(reception)} got ${reception.duplicates.length} duplicates: ${examples(reception.duplicates, (id) => `${id} (${topicOf(ledger, id)})`)}`,
      )
    }
    outOfOrder += reception.misordered.length
    if (reception.misordered.length > 0) {
      failures.push(
        `${describe(reception)} got ${reception.misordered.length} out of order: ${examples(reception.misordered, (m) => `${m.id} after ${m.after}`)}`,
      )
    }
    corrupt += reception.corrupt.length + reception.foreign.length
    if (reception.corrupt.length + reception.foreign.length > 0) {
      failures.push(
        `${describe(reception)} got ${reception.corrupt.length} corrupt payloads and ${reception.foreign.length} unknown ids: ${examples([...reception.corrupt, ...reception.foreign], (id) => id)}`,
      )
    }
  }

  const unacked = [...ledger.all()].filter((update) => update.ackAt === null)
  if (unacked.length > 0) {
    failures.push(
      `${unacked.length} publishes were never acknowledged: ${examples(unacked, (u) => `${u.id} (answers ${u.statuses.join(',')})`)}`,
    )
  }
  const uncut = evidence.stalls.filter((s) => !s.cut && s.bytesBehind >= evidence.stallBytes)
  if (uncut.length > 0) {
    failures.push(
      `${uncut.length} stalled readers were not cut although ${(evidence.stallBytes / 1048576).toFixed(0)} MiB or more was published to them`,
    )
  }
  for (const summary of evidence.rss) {
    if (!summary.bounded) {
      failures.push(`${summary.node}: RSS reached ${summary.maxMiB} MiB, over the bound`)
    }
    if (summary.flat === false) {
      failures.push(
        `${summary.node}: RSS not flat: last minute ${((summary.lastOverSecond ?? 0) * 100).toFixed(0)} % of the second (per minute: ${summary.perMinuteMiB.join(', ')} MiB)`,
      )
    }
  }

  const clients: Record<ClientKind, number> = {
    fast: 0,
    slow: 0,
    stalled: 0,
    token: 0,
    storm: 0,
    earliest: 0,
  }
  for (const reception of receptions) clients[reception.kind]++
  const sum = (pick: (reception: Reception) => number): number =>
    receptions.reduce((total, reception) => total + pick(reception), 0)
  return {
    store: evidence.store,
    status: failures.length === 0 ? 'pass' : 'fail',
    note: '',
    seconds: evidence.seconds,
    publishes: ledger.acked.length,
    retried: [...ledger.all()].filter((update) => update.statuses.length > 1).length,
    unacknowledged: unacked.length,
    bytes: ledger.ackedBytes,
    clients,
    deliveries: sum((r) => r.deliveries),
    deliveredBytes: sum((r) => r.bytes),
    lost,
    duplicated,
    outOfOrder,
    corrupt,
    notCaughtUp,
    stalls: evidence.stalls.length,
    stallsCut: evidence.stalls.filter((stall) => stall.cut).length,
    hubDisconnections: evidence.hubDisconnections,
    readerDrops: sum((r) => (r.kind === 'stalled' ? 0 : r.drops)),
    readerCuts: sum((r) => (r.kind === 'stalled' ? 0 : r.cuts)),
    restarts: evidence.restarts,
    tokens: evidence.tokens,
    tokenClientsGaveUp: evidence.tokenClientsGaveUp,
    tokenErrors: evidence.tokenErrors,
    earliest: evidence.earliest,
    rss: evidence.rss,
    stallLog: evidence.stalls,
    failures,
    timeline: evidence.timeline,
  }
}

/** A store that did not run (`skip`), or could not finish (`fail`), and why. */
export function notRun(store: StoreKind, status: 'skip' | 'fail', note: string): StoreResult {
  return {
    ...judge({
      store,
      seconds: 0,
      ledger: new Ledger(),
      loadStart: 0,
      receptions: [],
      stalls: [],
      stallBytes: 0,
      history: null,
      historySize: 0,
      hubDisconnections: {},
      restarts: [],
      tokens: 0,
      tokenClientsGaveUp: 0,
      tokenErrors: {},
      earliest: null,
      rss: [],
      timeline: emptyTimeline(),
      errors: [],
    }),
    status,
    note,
    failures: status === 'fail' ? [note] : [],
  }
}

function examples<T>(items: readonly T[], show: (item: T) => string): string {
  const shown = items.slice(0, EXAMPLES).map(show).join(', ')
  return items.length > EXAMPLES ? `${shown}, …` : shown
}

function topicOf(ledger: Ledger, id: string): string {
  const topic = ledger.get(id)?.topic
  return topic === undefined ? 'unknown' : topic.slice(topic.lastIndexOf(':') + 1)
}

import type { Ledger, Update } from './ledger.ts'
import type { SoakOptions } from './options.ts'
import type { Random } from './random.ts'
import { startRawReader } from './raw-reader.ts'
import { Reception, type Start } from './reception.ts'
import type { EarliestCatchUp } from './verdict.ts'

const MIB = 1024 * 1024
/** Updates at the old end of the history that concurrent commits may have trimmed already. */
const TRIM_MARGIN = 256

/** What a storm needs from its store's run. */
export interface StormContext {
  readonly ledger: Ledger
  readonly options: SoakOptions
  readonly random: Random
  /** The public topics. */
  readonly topics: readonly string[]
  /** A subscription URL for `topics` on one of the store's nodes. */
  url(topics: readonly string[]): string
  restarting(): boolean
  /** Adds a client to the store's checks. */
  register(reception: Reception): void
}

/**
 * A reconnect storm: `count` new clients at once, each resuming with `Last-Event-ID` from a
 * random public update in the newest 80 % of the retained history (`earliest` for the first
 * `earliestCount`, on every public topic). Each reads until it has every update it is owed up
 * to the moment it connected (or the storm timeout), then leaves. Resolves with the `earliest`
 * catch-ups once every client has left.
 */
export async function runStorm(
  context: StormContext,
  index: number,
  count: number,
  earliestCount: number,
): Promise<EarliestCatchUp[]> {
  const { ledger, options, random } = context
  const acked = ledger.acked.length
  const historyMiB = ledger.bytesOfNewest(options.historySize) / MIB
  const clients = Array.from({ length: count }, async (_, i): Promise<EarliestCatchUp | null> => {
    const earliest = i < earliestCount
    const topics = earliest
      ? context.topics
      : random.chance(0.25)
        ? context.topics
        : random.sample(context.topics, random.int(1, 4))
    const start: Start = earliest
      ? { earliestFloor: acked - options.historySize + TRIM_MARGIN }
      : { after: randomCursor(ledger, random, acked - Math.floor(0.8 * options.historySize)) }
    const reception = new Reception(ledger, {
      name: `storm${index}-${i}`,
      kind: earliest ? 'earliest' : 'storm',
      topics,
      seesPrivate: false,
      start,
      checked: true,
    })
    reception.cutoff = Date.now()
    context.register(reception)
    const reader = startRawReader({
      reception,
      mode: 'fast',
      url: () => context.url(topics),
      random,
      restarting: context.restarting,
      bytesOnTopics: () => 0,
      stallMs: 0,
      stallBytes: 0,
    })
    const began = Date.now()
    let remaining: Update[] = reception.owed()
    while (Date.now() - began < options.stormTimeoutMs) {
      remaining = remaining.filter((update) => !reception.has(update.id))
      if (remaining.length === 0) break
      await sleep(250)
    }
    reader.close()
    if (!earliest) return null
    return {
      historyMiB,
      receivedMiB: reception.bytes / MIB,
      ms: remaining.length === 0 ? Date.now() - began : null,
    }
  })
  const outcomes = await Promise.all(clients)
  return outcomes.filter((outcome) => outcome !== null)
}

/** A public acknowledged update with an ordinal of at least `from` (or the oldest public one). */
function randomCursor(ledger: Ledger, random: Random, from: number): Update {
  const { acked } = ledger
  const low = Math.max(0, Math.min(from, acked.length - 1))
  for (let ordinal = random.int(low, acked.length - 1); ordinal >= 0; ordinal--) {
    const update = acked[ordinal] as Update
    if (!update.private) return update
  }
  return acked[0] as Update
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

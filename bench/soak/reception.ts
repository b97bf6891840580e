import type { Ledger, Update } from './ledger.ts'
import { payloadOf } from './payload.ts'

/** The kinds of clients the soak runs. */
export type ClientKind = 'fast' | 'slow' | 'stalled' | 'token' | 'storm' | 'earliest'

/** Where a client's subscription starts: just after an update, or at the start of the history. */
export type Start = { after: Update } | { earliestFloor: number }

/** A fault planted in the checker on purpose, to prove the checks can fail (`--inject`). */
export type Injection = 'drop' | 'dup' | 'reorder'

/** An update delivered after one that follows it in the hub's order. */
export interface Misordered {
  readonly id: string
  /** The update received before it that the hub ordered after it. */
  readonly after: string
}

/** Options of {@link Reception}. */
export interface ReceptionOptions {
  /** Unique within a store's run, e.g. `fast-3@redis-b`. */
  name: string
  kind: ClientKind
  topics: readonly string[]
  /** Whether its token lets it receive private updates. */
  seesPrivate: boolean
  start: Start
  /** Whether it must receive every update it is owed (stalled readers need not). */
  checked: boolean
  /** Plant a fault at the 5th delivery. Defaults to none. */
  inject?: Injection | undefined
}

const INJECT_AT = 5

/** A string that shares no memory with `text` (a slice would keep its parent alive). */
function ownCopy(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8')
}

/**
 * What one client received, over all its connections, checked as it arrives: duplicates, order
 * within each publisher (lane), and payload integrity. What it should have received is worked
 * out from the ledger by {@link Reception.missing}.
 */
export class Reception {
  readonly name: string
  readonly kind: ClientKind
  readonly topics: ReadonlySet<string>
  readonly seesPrivate: boolean
  readonly start: Start
  readonly checked: boolean
  /** Updates acknowledged after this time are not owed to it (a client that left early). */
  cutoff = Number.POSITIVE_INFINITY
  deliveries = 0
  bytes = 0
  /** Ids in the order of their first delivery. */
  readonly firsts: string[] = []
  /** Each delivery of an id already delivered. */
  readonly duplicates: string[] = []
  readonly misordered: Misordered[] = []
  /** Ids whose data was not the payload that was published. */
  readonly corrupt: string[] = []
  /** Deliveries of ids this run never published. */
  foreign: string[] = []
  /** Responses with status 200. */
  connections = 0
  /**
   * Streams the hub ended cleanly while no restart or harness action explained it (the end of
   * `--max-lifetime`, a token's `exp`).
   */
  drops = 0
  /**
   * Connections the hub cut (reset before the response, or a response ended mid-stream) while
   * no restart or harness action explained it: what the hub does to a client it judges too slow.
   */
  cuts = 0
  /** Cursors the hub answered `earliest` to (it did not know them). */
  readonly unknownCursors: string[] = []
  /**
   * Gets each first delivery's latency from its publisher's first attempt, in ms (the
   * timeline's), or `null` to measure none: storm clients read history, not live updates.
   */
  onLatency: ((ms: number) => void) | null = null
  readonly #seen = new Set<string>()
  readonly #laneMax = new Map<string, Update>()
  readonly #ledger: Ledger
  readonly #inject: Injection | undefined
  #held: { id: string; data: string } | null = null

  constructor(ledger: Ledger, options: ReceptionOptions) {
    this.#ledger = ledger
    this.name = options.name
    this.kind = options.kind
    this.topics = new Set(options.topics)
    this.seesPrivate = options.seesPrivate
    this.start = options.start
    this.checked = options.checked
    this.#inject = options.inject
  }

  /** The cursor to subscribe with first: the start update's id, or `earliest`. */
  get initialCursor(): string {
    return 'after' in this.start ? this.start.after.id : 'earliest'
  }

  /** Records one delivered event. */
  record(id: string, data: string): void {
    this.deliveries++
    this.bytes += data.length
    if (this.#inject !== undefined && this.deliveries === INJECT_AT) {
      if (this.#inject === 'drop') return
      if (this.#inject === 'dup') this.#check(id, data)
      if (this.#inject === 'reorder') {
        this.#held = { id, data }
        return
      }
    }
    this.#check(id, data)
    if (this.#held !== null) {
      const held = this.#held
      this.#held = null
      this.#check(held.id, held.data)
    }
  }

  #check(delivered: string, data: string): void {
    const update = this.#ledger.get(delivered)
    // Keep the ledger's own string, never the parser's: a parsed id is a slice of the decoded
    // socket chunk (up to 64 KiB) and keeps all of it alive. Kept per client for the whole run,
    // such slices grew the harness past a 4 GiB heap in 13 minutes.
    const id = update?.id ?? ownCopy(delivered)
    if (this.#seen.has(id)) {
      this.duplicates.push(id)
      return
    }
    this.#seen.add(id)
    this.firsts.push(id)
    if (update === undefined) {
      this.foreign.push(id)
      return
    }
    this.onLatency?.(Date.now() - update.sentAt)
    if (data.length !== update.size || data !== payloadOf(update.id, update.size)) {
      this.corrupt.push(id)
    }
    const previous = this.#laneMax.get(update.lane)
    if (previous !== undefined && previous.seq > update.seq) {
      this.misordered.push({ id, after: previous.id })
    } else {
      this.#laneMax.set(update.lane, update)
    }
  }

  /** Whether `id` was delivered. */
  has(id: string): boolean {
    return this.#seen.has(id)
  }

  /** Whether the update is on its topics and visible to it. */
  sees(update: Update): boolean {
    return this.topics.has(update.topic) && (!update.private || this.seesPrivate)
  }

  /**
   * The acknowledged updates it is owed: on its topics and visible to it, acknowledged by its
   * cutoff, and sent after its start update was acknowledged (so the hub had committed its
   * start before it committed them) or, for `earliest`, not older than the retained history.
   */
  owed(): Update[] {
    const owed: Update[] = []
    const { start } = this
    for (const update of this.#ledger.acked) {
      if (!this.sees(update) || (update.ackAt as number) > this.cutoff) continue
      if ('after' in start) {
        if (update.sentAt <= (start.after.ackAt as number)) continue
      } else if (update.ordinal < start.earliestFloor) {
        continue
      }
      owed.push(update)
    }
    return owed
  }

  /** The owed updates not delivered (yet). */
  missing(): Update[] {
    return this.owed().filter((update) => !this.#seen.has(update.id))
  }

  /**
   * Checks the order of first deliveries against the hub's own (`position`: an id's index in
   * the history as read back at the end) and adds what is out of it and not already counted.
   */
  checkOrder(position: ReadonlyMap<string, number>): void {
    const counted = new Set(this.misordered.map((entry) => entry.id))
    let highest = -1
    let highestId = ''
    for (const id of this.firsts) {
      const at = position.get(id)
      if (at === undefined) continue
      if (at < highest) {
        if (!counted.has(id)) this.misordered.push({ id, after: highestId })
      } else {
        highest = at
        highestId = id
      }
    }
  }
}

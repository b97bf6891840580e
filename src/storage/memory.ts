import { type EventStore, StoreUnavailableError } from '../hub/event-store.ts'
import type { StoredUpdate, Update } from '../hub/update.ts'
import { CommitListeners } from './commit-listeners.ts'
import { DEFAULT_MAX_UPDATES } from './defaults.ts'
import { scheduleEndOfTurnCommit } from './end-of-turn.ts'
import { type CommitOutcomes, GroupCommit } from './group-commit.ts'
import type { RetentionOptions } from './retention.ts'
import {
  checkMaxAgeMs,
  checkPositiveInteger,
  MAX_RETRY_MATCHES,
  parseSequenceCursor,
  sameUpdate,
  storedUpdate,
} from './stored-update.ts'

/** Options of {@link createMemoryStore}: only retention, since nothing outlives the process. */
export interface MemoryStoreOptions extends RetentionOptions {}

/** The ring starts this small and doubles up to `maxUpdates`, so a quiet hub stays small. */
const INITIAL_CAPACITY = 1024
/**
 * The age-pruning timer runs at most this often, in milliseconds. It only frees memory early:
 * `find`, `read` and `size` prune first, so their answers are exact.
 */
const MAX_PRUNE_INTERVAL_MS = 1000

/**
 * History kept in a bounded ring in this process: fast, and gone on restart. Cursors are decimal
 * sequence numbers starting at `"1"`. Appends made in the same tick are committed and delivered
 * to listeners as one batch.
 */
export class MemoryStore implements EventStore {
  readonly kind = 'memory'
  readonly #maxUpdates: number
  readonly #maxAgeMs: number | null
  #ring: Array<StoredUpdate | undefined>
  /** Ring index of the oldest retained update. */
  #start = 0
  #count = 0
  /** Sequence number of the oldest retained update; when empty, the next one to be stored. */
  #firstSeq = 1
  #lastSeq = 0
  #lastTime = 0
  /** The cursor listeners last saw: moves together with the listener calls, not before. */
  #head: string | null = null
  #headId: string | null = null
  /**
   * The sequence numbers of the retained updates with each id: the number itself for an id used
   * once (nearly all of them: no array per update), else the numbers oldest first, since an id may
   * be reused (Mercure draft-08) and eviction, oldest first, always takes the first of its id.
   */
  readonly #ids = new Map<string, number | number[]>()
  // The batch closes at the end of the turn, not in a microtask, though a commit costs no I/O
  // here: the publishes read in one poll are then acknowledged together, the answers leaving in
  // one burst, and then their deliveries (see end-of-turn.ts). Answered one by one, each answer
  // woke its publisher's sleeping reader, a wake-up the hub's write pays in the kernel (issue #15:
  // with 64 publishers, scripts/publish-cost.sh measured 52 µs of CPU per publish, 16 µs of it
  // system time, against 38 µs and 9 µs at the end of the turn; bench/latency.bench.ts kept its
  // p99). The batch is unbounded: it holds what one turn appended.
  readonly #appends = new GroupCommit<Update, StoredUpdate>({
    schedule: scheduleEndOfTurnCommit,
    commit: (batch) => this.#commit(batch),
  })
  readonly #listeners = new CommitListeners()
  readonly #timer: ReturnType<typeof setInterval> | undefined
  #closed = false
  #closing: Promise<void> | undefined

  /** Prefer {@link createMemoryStore}. Throws a `RangeError` for invalid retention options. */
  constructor(options: MemoryStoreOptions = {}) {
    this.#maxUpdates = checkPositiveInteger('maxUpdates', options.maxUpdates, DEFAULT_MAX_UPDATES)
    this.#maxAgeMs = checkMaxAgeMs(options.maxAgeMs)
    this.#ring = new Array(Math.min(INITIAL_CAPACITY, this.#maxUpdates))
    if (this.#maxAgeMs !== null) {
      this.#timer = setInterval(
        () => this.#prune(Date.now()),
        Math.min(this.#maxAgeMs, MAX_PRUNE_INTERVAL_MS),
      )
      // Pruning is housekeeping: it must not keep an otherwise finished process alive.
      this.#timer.unref()
    }
  }

  append(update: Update): Promise<StoredUpdate> {
    if (this.#closed) {
      return Promise.reject(new StoreUnavailableError('the memory store is closed'))
    }
    return this.#appends.add(update)
  }

  onCommit(listener: (updates: readonly StoredUpdate[]) => void): () => void {
    return this.#listeners.add(listener)
  }

  head(): string | null {
    return this.#head
  }

  headId(): string | null {
    return this.#headId
  }

  async find(id: string): Promise<string | null> {
    this.#prune(Date.now())
    // [spec] A cursor naming a reused id resolves to the earliest retained update with it.
    const seqs = this.#ids.get(id)
    const seq = typeof seqs === 'object' ? seqs[0] : seqs
    return seq === undefined ? null : String(seq)
  }

  async read(after: string | null, upTo: string, limit: number): Promise<StoredUpdate[]> {
    this.#prune(Date.now())
    const from =
      Math.max(after === null ? 0 : parseSequenceCursor(after, 'memory'), this.#firstSeq - 1) + 1
    const to = Math.min(
      parseSequenceCursor(upTo, 'memory'),
      this.#lastSeq,
      from + Math.max(0, Math.floor(limit)) - 1,
    )
    const updates: StoredUpdate[] = []
    for (let seq = from; seq <= to; seq++) updates.push(this.#slot(seq))
    return updates
  }

  async size(): Promise<number> {
    this.#prune(Date.now())
    return this.#count
  }

  async ready(): Promise<boolean> {
    return !this.#closed
  }

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed = true
    clearInterval(this.#timer)
    // When called from a listener, the dispatch that called it is still running: committing now
    // would deliver the newer updates to the listeners still waiting for the older ones.
    await undefined
    // Appends accepted before close are committed rather than lost.
    this.#appends.drain()
  }

  /** Commits one batch and dispatches what it stored; says what became of each append. */
  #commit(batch: readonly Update[]): CommitOutcomes<StoredUpdate> {
    // A clock stepped back must not make time go backwards in the history: age pruning walks
    // from the oldest end and stops at the first fresh update.
    const time = Math.max(Date.now(), this.#lastTime)
    this.#lastTime = time
    this.#prune(time)
    const stored: StoredUpdate[] = []
    const results: StoredUpdate[] = []
    for (const update of batch) {
      // Looked up as each update comes, after the evictions of those before it in the batch:
      // what counts is the history as it is when this update would join it.
      // One lookup of the id serves both the retry check and the index (issue #15).
      const seqs = this.#ids.get(update.id)
      const existing = seqs === undefined ? undefined : this.#retry(update, seqs)
      if (existing !== undefined) {
        results.push(existing)
        continue
      }
      const seq = ++this.#lastSeq
      const item = storedUpdate(update, String(seq), time)
      this.#push(seq, item, seqs)
      stored.push(item)
      results.push(item)
    }
    const newest = stored.at(-1)
    if (newest !== undefined) {
      this.#head = newest.cursor
      this.#headId = newest.id
      this.#listeners.dispatch(Object.freeze(stored))
    }
    return results
  }

  /**
   * The retained update `update` repeats (a publisher's retry), if any: among the newest
   * {@link MAX_RETRY_MATCHES} with its id, newest first.
   */
  #retry(update: Update, seqs: number | number[]): StoredUpdate | undefined {
    if (typeof seqs === 'number') {
      const existing = this.#slot(seqs)
      return sameUpdate(existing, update) ? existing : undefined
    }
    const oldest = Math.max(0, seqs.length - MAX_RETRY_MATCHES)
    for (let i = seqs.length - 1; i >= oldest; i--) {
      const existing = this.#slot(seqs[i] as number)
      if (sameUpdate(existing, update)) return existing
    }
    return undefined
  }

  /** Stores `update` as `seq`; `known` is what `#ids` held for its id before (looked up once). */
  #push(seq: number, update: StoredUpdate, known: number | number[] | undefined): void {
    let seqs = known
    if (this.#count === this.#maxUpdates) {
      this.#evictOldest()
      // The update evicted may have had this id: what the index holds for it may have changed.
      if (seqs !== undefined) seqs = this.#ids.get(update.id)
    }
    if (this.#count === this.#ring.length) this.#grow()
    if (this.#count === 0) this.#firstSeq = seq
    this.#ring[(this.#start + this.#count) % this.#ring.length] = update
    this.#count++
    if (seqs === undefined) this.#ids.set(update.id, seq)
    else if (typeof seqs === 'number') this.#ids.set(update.id, [seqs, seq])
    else seqs.push(seq)
  }

  #grow(): void {
    const capacity = Math.min(this.#ring.length * 2, this.#maxUpdates)
    const ring = new Array<StoredUpdate | undefined>(capacity)
    for (let i = 0; i < this.#count; i++)
      ring[i] = this.#ring[(this.#start + i) % this.#ring.length]
    this.#ring = ring
    this.#start = 0
  }

  #evictOldest(): void {
    const oldest = this.#ring[this.#start] as StoredUpdate
    this.#ring[this.#start] = undefined
    this.#start = (this.#start + 1) % this.#ring.length
    this.#count--
    const seqs = this.#ids.get(oldest.id) as number | number[]
    if (typeof seqs === 'number') this.#ids.delete(oldest.id)
    else if (seqs.length === 2) this.#ids.set(oldest.id, seqs[1] as number)
    else seqs.shift()
    this.#firstSeq++
  }

  #prune(now: number): void {
    if (this.#maxAgeMs === null) return
    const cutoff = now - this.#maxAgeMs
    while (this.#count > 0 && (this.#ring[this.#start] as StoredUpdate).time < cutoff) {
      this.#evictOldest()
    }
  }

  #slot(seq: number): StoredUpdate {
    return this.#ring[(this.#start + seq - this.#firstSeq) % this.#ring.length] as StoredUpdate
  }
}

/** Creates a {@link MemoryStore}. Throws a `RangeError` for invalid retention options. */
export function createMemoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options)
}

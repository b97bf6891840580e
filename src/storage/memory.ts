import type { StoredUpdate, Update } from '../hub/update.ts'
import { CommitListeners } from './commit-listeners.ts'
import { type EventStore, type RetentionOptions, StoreUnavailableError } from './store.ts'
import {
  checkMaxAgeMs,
  checkPositiveInteger,
  parseSequenceCursor,
  storedUpdate,
} from './stored-update.ts'

/** Options of {@link createMemoryStore}: only retention, since nothing outlives the process. */
export interface MemoryStoreOptions extends RetentionOptions {}

const DEFAULT_MAX_UPDATES = 100_000
/** The ring starts this small and doubles up to `maxUpdates`, so a quiet hub stays small. */
const INITIAL_CAPACITY = 1024
/**
 * The age-pruning timer runs at most this often, in milliseconds. It only frees memory early:
 * `find`, `read` and `size` prune first, so their answers are exact.
 */
const MAX_PRUNE_INTERVAL_MS = 1000

interface Slot {
  readonly update: StoredUpdate
  /** The sequence number of the next retained update with the same id, or 0 when none. */
  nextSameId: number
}

interface IdEntry {
  /** The earliest retained sequence number with this id: what `find` answers. */
  first: number
  /** The latest, so a new duplicate can be linked in O(1). */
  last: number
}

interface Pending {
  readonly update: Update
  readonly resolve: (stored: StoredUpdate) => void
}

/**
 * History kept in a bounded ring in this process: fast, and gone on restart. Cursors are decimal
 * sequence numbers starting at `"1"`. Appends made in the same tick are committed and delivered
 * to listeners as one batch.
 */
export class MemoryStore implements EventStore {
  readonly kind = 'memory'
  readonly #maxUpdates: number
  readonly #maxAgeMs: number | null
  #ring: Array<Slot | undefined>
  /** Ring index of the oldest retained update. */
  #start = 0
  #count = 0
  /** Sequence number of the oldest retained update; when empty, the next one to be stored. */
  #firstSeq = 1
  #lastSeq = 0
  #lastTime = 0
  /** The cursor listeners last saw: moves together with the listener calls, not before. */
  #head: string | null = null
  readonly #ids = new Map<string, IdEntry>()
  #pending: Pending[] = []
  #flushQueued = false
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
    return new Promise((resolve) => {
      this.#pending.push({ update, resolve })
      if (!this.#flushQueued) {
        this.#flushQueued = true
        queueMicrotask(() => this.#flush())
      }
    })
  }

  onCommit(listener: (updates: readonly StoredUpdate[]) => void): () => void {
    return this.#listeners.add(listener)
  }

  head(): string | null {
    return this.#head
  }

  async find(id: string): Promise<string | null> {
    this.#prune(Date.now())
    const entry = this.#ids.get(id)
    return entry === undefined ? null : String(entry.first)
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
    for (let seq = from; seq <= to; seq++) updates.push(this.#slot(seq).update)
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
    this.#flush()
  }

  #flush(): void {
    this.#flushQueued = false
    const batch = this.#pending
    if (batch.length === 0) return
    this.#pending = []
    // A clock stepped back must not make time go backwards in the history: age pruning walks
    // from the oldest end and stops at the first fresh update.
    const time = Math.max(Date.now(), this.#lastTime)
    this.#lastTime = time
    this.#prune(time)
    const stored: StoredUpdate[] = []
    for (const { update } of batch) {
      const seq = ++this.#lastSeq
      const item = storedUpdate(update, String(seq), time)
      this.#push(seq, item)
      stored.push(item)
    }
    Object.freeze(stored)
    this.#head = stored[stored.length - 1]?.cursor ?? this.#head
    this.#listeners.dispatch(stored)
    for (let i = 0; i < batch.length; i++) batch[i]?.resolve(stored[i] as StoredUpdate)
  }

  #push(seq: number, update: StoredUpdate): void {
    if (this.#count === this.#maxUpdates) this.#evictOldest()
    if (this.#count === this.#ring.length) this.#grow()
    if (this.#count === 0) this.#firstSeq = seq
    this.#ring[(this.#start + this.#count) % this.#ring.length] = { update, nextSameId: 0 }
    this.#count++
    const entry = this.#ids.get(update.id)
    if (entry === undefined) {
      this.#ids.set(update.id, { first: seq, last: seq })
    } else {
      this.#slot(entry.last).nextSameId = seq
      entry.last = seq
    }
  }

  #grow(): void {
    const ring = new Array<Slot | undefined>(Math.min(this.#ring.length * 2, this.#maxUpdates))
    for (let i = 0; i < this.#count; i++)
      ring[i] = this.#ring[(this.#start + i) % this.#ring.length]
    this.#ring = ring
    this.#start = 0
  }

  #evictOldest(): void {
    const slot = this.#ring[this.#start] as Slot
    this.#ring[this.#start] = undefined
    this.#start = (this.#start + 1) % this.#ring.length
    this.#count--
    // Eviction goes oldest first, so the evicted update is always the first of its id.
    if (slot.nextSameId === 0) {
      this.#ids.delete(slot.update.id)
    } else {
      ;(this.#ids.get(slot.update.id) as IdEntry).first = slot.nextSameId
    }
    this.#firstSeq++
  }

  #prune(now: number): void {
    if (this.#maxAgeMs === null) return
    const cutoff = now - this.#maxAgeMs
    while (this.#count > 0 && (this.#ring[this.#start] as Slot).update.time < cutoff) {
      this.#evictOldest()
    }
  }

  #slot(seq: number): Slot {
    return this.#ring[(this.#start + seq - this.#firstSeq) % this.#ring.length] as Slot
  }
}

/** Creates a {@link MemoryStore}. Throws a `RangeError` for invalid retention options. */
export function createMemoryStore(options?: MemoryStoreOptions): MemoryStore {
  return new MemoryStore(options)
}

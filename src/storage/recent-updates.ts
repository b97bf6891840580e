import type { StoredUpdate } from '../hub/update.ts'

/** The default memory bound of a store's {@link RecentUpdates}: 16 MiB. */
export const DEFAULT_RECENT_BYTES = 16 * 1024 * 1024

// What an update costs besides its strings: the frozen object, its topics array, the cursor.
const OVERHEAD_BYTES = 160

/**
 * The newest committed updates of a store whose cursors are consecutive sequence numbers, kept in
 * memory so that replays of recent history (a reconnect storm after a deploy or a network blip,
 * every client a few hundred updates behind) never go to the disk. Without it, each of 1,000
 * reconnecting subscribers read its own 1,000 rows back from SQLite (a million rows decoded for
 * one burst of reconnects); bench/catch-up.bench.ts measures the difference.
 *
 * The window is contiguous: it holds every update from its first sequence number to the newest
 * one, and is bounded in approximate bytes (string lengths plus a fixed overhead per update) and
 * in count. A batch that does not follow the newest held update restarts the window.
 */
export class RecentUpdates {
  readonly #maxBytes: number
  readonly #maxCount: number
  #updates: Array<StoredUpdate | undefined> = []
  #sizes: number[] = []
  #head = 0
  #firstSeq = 0
  #bytes = 0

  /**
   * @param maxBytes - Approximate bytes held at most; `0` holds nothing.
   * @param maxCount - Updates held at most (the store's retention by count).
   */
  constructor(maxBytes: number, maxCount: number) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) {
      throw new RangeError(`recentBytes must be a non-negative integer, got ${maxBytes}`)
    }
    this.#maxBytes = maxBytes
    this.#maxCount = maxCount
  }

  /** How many updates are held. */
  get size(): number {
    return this.#updates.length - this.#head
  }

  /**
   * Adds committed updates, `seqs[i]` being the sequence number of `updates[i]`. An update that
   * does not follow the newest one held restarts the window from it.
   */
  add(seqs: readonly number[], updates: readonly StoredUpdate[]): void {
    if (this.#maxBytes === 0) return
    for (const [i, update] of updates.entries()) {
      const seq = seqs[i] as number
      if (this.size === 0 || seq !== this.#firstSeq + this.size) this.#reset(seq)
      let bytes = OVERHEAD_BYTES + update.id.length + update.data.length
      for (const topic of update.topics) bytes += topic.length
      this.#updates.push(update)
      this.#sizes.push(bytes)
      this.#bytes += bytes
    }
    while (this.size > 0 && (this.#bytes > this.#maxBytes || this.size > this.#maxCount)) {
      this.#bytes -= this.#sizes[this.#head] as number
      this.#updates[this.#head] = undefined
      this.#head++
      this.#firstSeq++
    }
    // Compact once the dropped prefix is as long as what is held: amortised O(1) per update.
    if (this.#head > 1024 && this.#head >= this.size) {
      this.#updates = this.#updates.slice(this.#head)
      this.#sizes = this.#sizes.slice(this.#head)
      this.#head = 0
    }
  }

  /**
   * The held updates with a sequence number above `after` and at most `upTo`, in order, at most
   * `limit`, skipping those committed before `cutoff` (epoch milliseconds). Returns `null` when
   * the window does not reach back to `after + 1`: the caller must read the disk.
   */
  read(after: number, upTo: number, limit: number, cutoff: number): StoredUpdate[] | null {
    if (this.size === 0 || after + 1 < this.#firstSeq) return null
    const result: StoredUpdate[] = []
    const end = this.#head + Math.min(upTo - this.#firstSeq + 1, this.size)
    for (let i = this.#head + (after + 1 - this.#firstSeq); i < end; i++) {
      if (result.length >= limit) break
      const update = this.#updates[i] as StoredUpdate
      if (update.time >= cutoff) result.push(update)
    }
    return result
  }

  #reset(firstSeq: number): void {
    this.#updates = []
    this.#sizes = []
    this.#head = 0
    this.#bytes = 0
    this.#firstSeq = firstSeq
  }
}

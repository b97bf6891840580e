/**
 * How many event ids each tab remembers to drop duplicates. Duplicates only come from a leader
 * hand-over (the new leader resumes from the last id it saw while a few later events may still be
 * in flight from the old one), so a window far larger than that is enough.
 */
const RECENT_IDS_LIMIT = 1024

/** The most recent event ids, the oldest forgotten first: a bounded duplicate filter. */
export class RecentIds {
  readonly #ids = new Set<string>()
  readonly #limit: number

  /** @param limit - how many ids to keep. Defaults to {@link RECENT_IDS_LIMIT}. */
  constructor(limit = RECENT_IDS_LIMIT) {
    this.#limit = limit
  }

  /** Whether `id` is among the recent ids. */
  has(id: string): boolean {
    return this.#ids.has(id)
  }

  /** Remembers `id`: `false` when it was already there (a duplicate), `true` when new. */
  add(id: string): boolean {
    if (this.#ids.has(id)) return false
    this.#ids.add(id)
    // A Set iterates in insertion order: its first id is the oldest.
    if (this.#ids.size > this.#limit) {
      for (const oldest of this.#ids) {
        this.#ids.delete(oldest)
        break
      }
    }
    return true
  }
}

import type { StoredUpdate } from '../hub/update.ts'
import { CommitListeners } from './commit-listeners.ts'
import { compareEntryIds, entryUpdate } from './redis-entries.ts'

interface Waiter {
  readonly cursor: string
  readonly resolve: () => void
}

/**
 * What one node has delivered of the shared stream: its head, its commit listeners, and the
 * appends waiting until their entry is delivered. The Redis store's reader feeds it.
 */
export class StreamDelivery {
  /** The newest entry id delivered to listeners: the reader resumes after it. */
  #head: string | null
  /** The update id of the newest update delivered (or found in the stream at start). */
  #headId: string | null = null
  readonly #listeners = new CommitListeners()
  /** In cursor order (appends are acknowledged in command order, so nearly always pushed). */
  readonly #waiters: Waiter[] = []

  constructor(head: string | null = null) {
    this.#head = head
  }

  /**
   * Sets where delivery starts (the stream's newest entry id) and the update id of the newest
   * update stored, before the first delivery.
   */
  startAt(head: string | null, headId: string | null): void {
    this.#head = head
    this.#headId = headId
  }

  /** The newest entry id delivered, or `null` before the first. */
  get head(): string | null {
    return this.#head
  }

  /** The update id of the newest update delivered, or `null` before the first. */
  get headId(): string | null {
    return this.#headId
  }

  /** Registers a commit listener; returns the function that unregisters it. */
  onCommit(listener: (updates: readonly StoredUpdate[]) => void): () => void {
    return this.#listeners.add(listener)
  }

  /**
   * Delivers stream entries (as XREAD replies them) to the listeners, moving the head in the same
   * synchronous step, then releases the appends they cover. Entries at or before the head are
   * skipped: each is delivered once.
   */
  deliver(entries: readonly unknown[]): void {
    let last = this.#head
    const updates: StoredUpdate[] = []
    for (const entry of entries) {
      const cursor = (entry as [string])[0]
      if (last !== null && compareEntryIds(cursor, last) <= 0) continue
      last = cursor
      // An entry some other program wrote is stepped over, not delivered.
      const update = entryUpdate(entry)
      if (update !== undefined) updates.push(update)
    }
    if (last === null || last === this.#head) return
    this.#head = last
    const newest = updates.at(-1)
    if (newest !== undefined) {
      this.#headId = newest.id
      this.#listeners.dispatch(Object.freeze(updates))
    }
    let done = 0
    while (done < this.#waiters.length) {
      const waiter = this.#waiters[done] as Waiter
      if (compareEntryIds(waiter.cursor, last) > 0) break
      waiter.resolve()
      done++
    }
    this.#waiters.splice(0, done)
  }

  /**
   * Resolves once `cursor` is delivered, or after `timeoutMs` (a reader reconnecting delivers it
   * later, in order; the update is committed either way).
   */
  whenDelivered(cursor: string, timeoutMs: number): Promise<void> {
    if (this.#head !== null && compareEntryIds(this.#head, cursor) >= 0) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      let i = this.#waiters.length
      while (i > 0 && compareEntryIds((this.#waiters[i - 1] as Waiter).cursor, cursor) > 0) i--
      this.#waiters.splice(i, 0, { cursor, resolve: done })
    })
  }

  /** Releases every waiting append (the store is closing). */
  releaseAll(): void {
    for (const waiter of this.#waiters.splice(0)) waiter.resolve()
  }
}

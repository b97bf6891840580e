import { MAX_BATCH, MAX_BATCH_BYTES } from './redis-scripts.ts'

interface Pending {
  readonly fields: readonly string[]
  readonly bytes: number
  readonly resolve: (cursor: string) => void
  readonly reject: (error: unknown) => void
}

/**
 * Group commit for the Redis store: the appends made in one event-loop turn go to Redis in one
 * script call (at most `MAX_BATCH` updates or about 1 MiB of payload each), which is what makes
 * a busy hub fast: the driver's cost per command, not Redis, is the limit.
 */
export class AppendBatcher {
  readonly #commit: (batch: ReadonlyArray<readonly string[]>) => Promise<readonly string[]>
  #queue: Pending[] = []
  #scheduled = false

  /**
   * `commit` stores a batch of entries (their field/value pairs) and resolves with their entry
   * ids in order; the batches of one turn are all sent in that turn, in order.
   */
  constructor(commit: (batch: ReadonlyArray<readonly string[]>) => Promise<readonly string[]>) {
    this.#commit = commit
  }

  /** Queues one entry; resolves with its entry id, or rejects with its batch's failure. */
  add(fields: readonly string[], bytes: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ fields, bytes, resolve, reject })
      if (this.#scheduled) return
      this.#scheduled = true
      // setImmediate, not a microtask: publishers answered in this turn get to append again
      // before the batch goes, so one round trip carries all of them.
      setImmediate(() => this.#flush())
    })
  }

  #flush(): void {
    this.#scheduled = false
    while (this.#queue.length > 0) {
      let count = 0
      let bytes = 0
      while (count < this.#queue.length && count < MAX_BATCH && bytes < MAX_BATCH_BYTES) {
        bytes += (this.#queue[count] as Pending).bytes
        count++
      }
      const batch = this.#queue.splice(0, count)
      this.#commit(batch.map((pending) => pending.fields)).then(
        (ids) => {
          for (const [i, pending] of batch.entries()) pending.resolve(String(ids[i]))
        },
        (error: unknown) => {
          for (const pending of batch) pending.reject(error)
        },
      )
    }
  }
}

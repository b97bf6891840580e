import { DuplicateIdError } from '../hub/event-store.ts'
import { appendFailed } from './redis-failures.ts'
import { DUPLICATE_ID, MAX_BATCH, MAX_BATCH_BYTES } from './redis-scripts.ts'

/** How an {@link AppendBatcher} reaches Redis. */
export interface AppendBatcherOptions {
  /** Runs the `APPEND` script with these arguments; resolves with its reply. */
  run: (args: string[]) => Promise<unknown>
  /** The script's arguments before the batch: max entries, max age, eviction budget. */
  retention: () => readonly string[]
  /**
   * Whether Redis may have run a script call that failed with this error (it took the command),
   * which makes the outcome of its appends `'unknown'` rather than `'not-stored'`.
   */
  mayHaveRun: (error: unknown) => boolean
}

interface Pending {
  readonly fields: readonly string[]
  readonly bytes: number
  readonly resolve: (cursor: string) => void
  readonly reject: (error: unknown) => void
}

/**
 * Group commit for the Redis store: the appends made in one event-loop turn go to Redis in one
 * `APPEND` script call (at most `MAX_BATCH` updates or about 1 MiB of payload each), which is
 * what makes a busy hub fast: the driver's cost per command, not Redis, is the limit. The
 * batches of one turn are all sent in that turn, in order.
 */
export class AppendBatcher {
  readonly #options: AppendBatcherOptions
  #queue: Pending[] = []
  #scheduled = false

  constructor(options: AppendBatcherOptions) {
    this.#options = options
  }

  /**
   * Queues one entry (its field/value pairs, the update id first); resolves with its entry id
   * (the existing one for an identical retry). Rejects with a `DuplicateIdError` when a retained
   * entry has its id and other fields, or with a `StoreUnavailableError` when its batch failed.
   */
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
      const args = [...this.#options.retention(), `${batch.length}`]
      for (const { fields } of batch) args.push(`${fields.length}`, ...fields)
      this.#options.run(args).then(
        (answers) => {
          // One answer per update, so one reused id fails only its own append.
          for (const [i, pending] of batch.entries()) {
            const answer = String((answers as unknown[])[i])
            if (answer === DUPLICATE_ID) pending.reject(new DuplicateIdError())
            else pending.resolve(answer)
          }
        },
        (error: unknown) => {
          const failure = appendFailed(batch.length, error, this.#options.mayHaveRun(error))
          for (const pending of batch) pending.reject(failure)
        },
      )
    }
  }
}

import { GroupCommit } from './group-commit.ts'
import { appendFailed } from './redis-failures.ts'
import { MAX_BATCH, MAX_BATCH_BYTES } from './redis-scripts.ts'

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

/** One update waiting for its script call: its entry's field/value pairs, the id first. */
interface Entry {
  readonly fields: readonly string[]
  readonly bytes: number
}

/**
 * Group commit for the Redis store: the appends made in one event-loop turn go to Redis in one
 * `APPEND` script call (at most `MAX_BATCH` updates or about 1 MiB of payload each), which is
 * what makes a busy hub fast: the driver's cost per command, not Redis, is the limit. The
 * batches of one turn are all sent in that turn, in order.
 */
export class AppendBatcher {
  readonly #commits: GroupCommit<Entry, string>

  constructor(options: AppendBatcherOptions) {
    this.#commits = new GroupCommit<Entry, string>({
      // setImmediate, not a microtask: publishers answered in this turn get to append again
      // before the batch goes, so one round trip carries all of them. Sending blocks nothing:
      // every batch of the turn goes at once, and Redis runs them in order.
      schedule: (flush) => setImmediate(flush),
      maxItems: MAX_BATCH,
      weight: (entry) => entry.bytes,
      maxWeight: MAX_BATCH_BYTES,
      commit: (batch) => {
        const args = [...options.retention(), `${batch.length}`]
        for (const { fields } of batch) args.push(`${fields.length}`, ...fields)
        return options.run(args).then(
          // One answer per update: its new entry id, or the one it repeats (a retry).
          (answers) => batch.map((_, i) => String((answers as unknown[])[i])),
          (error: unknown) => {
            throw appendFailed(batch.length, error, options.mayHaveRun(error))
          },
        )
      },
    })
  }

  /**
   * Queues one entry (its field/value pairs, the update id and digest first); resolves with its
   * entry id (the existing one for an identical retry). Rejects with a `StoreUnavailableError`
   * when its batch failed.
   */
  add(fields: readonly string[], bytes: number): Promise<string> {
    return this.#commits.add({ fields, bytes })
  }
}

/**
 * What a commit says of each item of its batch, in order: its result, or the error that fails
 * that item alone.
 */
export type CommitOutcomes<R> = ReadonlyArray<R | Error>

/** Options of a {@link GroupCommit}: when a batch closes, what bounds it, how it is committed. */
export interface GroupCommitOptions<T, R> {
  /**
   * Runs the flush once, when the batch closes. `queueMicrotask` closes it once the code that
   * appended and its microtasks have run (a commit that costs nothing waits for nothing);
   * `setImmediate` after the event loop's next poll, so the callers answered in this turn append
   * again before it (one fsync or one round trip then covers all of them).
   */
  schedule: (flush: () => void) => void
  /** The most items one batch takes. Defaults to no bound. */
  maxItems?: number
  /**
   * What one item weighs (its payload bytes, say), for {@link maxWeight}. Defaults to nothing:
   * batches are bounded by `maxItems` only.
   */
  weight?: (item: T) => number
  /**
   * A batch takes items while it weighs less than this, so its last item may take it past it
   * (an item heavier than the bound goes alone). Defaults to no bound.
   */
  maxWeight?: number
  /**
   * How many batches one flush commits: `'all'` (for a commit that only sends, and waits for its
   * answer off the event loop) or `'one'`, leaving the rest to the next turn (for a commit that
   * blocks the event loop while it runs). Defaults to `'all'`.
   */
  batchesPerTurn?: 'one' | 'all'
  /**
   * Commits one batch: returns, or resolves with, one outcome per item. Throwing or rejecting
   * fails every item of the batch with that error (nothing of it was committed, or it is unknown
   * what was).
   */
  commit: (batch: readonly T[]) => CommitOutcomes<R> | Promise<CommitOutcomes<R>>
}

interface Waiting<T, R> {
  readonly item: T
  readonly resolve: (result: R) => void
  readonly reject: (error: unknown) => void
}

/**
 * Group commit, shared by the stores: items added close together (appends) wait for their batch
 * to close, are committed together, and each one's promise settles with its own outcome. The
 * stores differ in when a batch closes and in what bounds it (see their options); the queue, the
 * scheduling and the settling are this.
 */
export class GroupCommit<T, R> {
  readonly #options: GroupCommitOptions<T, R>
  #waiting: Array<Waiting<T, R>> = []
  #scheduled = false
  /** Made once: a closure per batch showed in the publish profile (issue #15). */
  readonly #flushNow = (): void => this.#flush()

  constructor(options: GroupCommitOptions<T, R>) {
    this.#options = options
  }

  /** How many items wait for their batch. */
  get waiting(): number {
    return this.#waiting.length
  }

  /** Queues `item` for the next batch; settles with its outcome once that batch is committed. */
  add(item: T): Promise<R> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject })
      this.#schedule()
    })
  }

  /** Commits everything waiting now, batch after batch, without waiting for a turn: for `close()`. */
  drain(): void {
    while (this.#waiting.length > 0) this.#commit(this.#take())
  }

  #schedule(): void {
    if (this.#scheduled) return
    this.#scheduled = true
    this.#options.schedule(this.#flushNow)
  }

  #flush(): void {
    this.#scheduled = false
    if (this.#options.batchesPerTurn !== 'one') {
      this.drain()
      return
    }
    if (this.#waiting.length === 0) return
    const batch = this.#take()
    // Scheduled before the commit runs: the next batch waits for the next turn, whatever happens.
    if (this.#waiting.length > 0) this.#schedule()
    this.#commit(batch)
  }

  #take(): Array<Waiting<T, R>> {
    const { maxItems = Infinity, weight, maxWeight = Infinity } = this.#options
    const waiting = this.#waiting
    let count = 0
    if (weight === undefined || maxWeight === Infinity) {
      count = Math.min(waiting.length, maxItems)
    } else {
      let weighed = 0
      while (count < waiting.length && count < maxItems && weighed < maxWeight) {
        weighed += weight((waiting[count] as Waiting<T, R>).item)
        count++
      }
    }
    // Called with items waiting: a batch takes at least one, whatever the bounds say.
    count = Math.max(1, count)
    if (count === waiting.length) {
      this.#waiting = []
      return waiting
    }
    return waiting.splice(0, count)
  }

  #commit(batch: Array<Waiting<T, R>>): void {
    let outcomes: CommitOutcomes<R> | Promise<CommitOutcomes<R>>
    try {
      outcomes = this.#options.commit(batch.map((waiting) => waiting.item))
    } catch (error) {
      for (const waiting of batch) waiting.reject(error)
      return
    }
    if (outcomes instanceof Promise) {
      outcomes.then(
        (settled) => settle(batch, settled),
        (error: unknown) => {
          for (const waiting of batch) waiting.reject(error)
        },
      )
    } else {
      settle(batch, outcomes)
    }
  }
}

function settle<T, R>(batch: ReadonlyArray<Waiting<T, R>>, outcomes: CommitOutcomes<R>): void {
  for (let i = 0; i < batch.length; i++) {
    const waiting = batch[i] as Waiting<T, R>
    const outcome = outcomes[i] as R | Error
    if (outcome instanceof Error) waiting.reject(outcome)
    else waiting.resolve(outcome)
  }
}

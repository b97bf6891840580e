/**
 * When a durable store's batch closes. A commit that syncs to disk costs about the same for one
 * update as for a few, so the batch should hold every publisher that will come: those answered by
 * the last commit send their next update a loopback round trip later, often after the batch's
 * turn of the event loop. Closing the batch at the end of the turn (`setImmediate`) then commits
 * the early ones alone and makes the others wait a whole commit; under 4 publishers in flight
 * (bench/many-topics.bench.ts, SQLite) three batches in ten held fewer than 4.
 *
 * So a batch closes at the end of the turn in which it holds as many appends as the last commit
 * did, or after {@link GATHER_MAX_MS} at the latest, whichever comes first. The wait is I/O-driven
 * (the event loop sleeps in its poll until a request or the timer comes), never a spin. A lone
 * publisher waits for nothing: its last commit held one append. Durability is untouched: an
 * append is still acknowledged only once its transaction is committed.
 *
 * @module
 */

import { scheduleEndOfTurnCommit } from './end-of-turn.ts'

/** Longest a batch waits for the appends the last commit leads it to expect, in milliseconds. */
export const GATHER_MAX_MS = 1

/** Decides when a group commit's batch closes: see the module's comment. */
export class CommitGather {
  readonly #waiting: () => number
  #expected = 1
  #flush: (() => void) | null = null
  #timer: ReturnType<typeof setTimeout> | undefined
  readonly #release = (): void => {
    clearTimeout(this.#timer)
    this.#timer = undefined
    const flush = this.#flush
    this.#flush = null
    // At the end of this turn: the other appends read in the same poll join the batch.
    if (flush !== null) scheduleEndOfTurnCommit(flush)
  }

  /** @param waiting How many appends wait for the batch now. */
  constructor(waiting: () => number) {
    this.#waiting = waiting
  }

  /** The group commit's `schedule`: closes the batch now, or once it holds what is expected. */
  readonly schedule = (flush: () => void): void => {
    if (this.#waiting() >= this.#expected) {
      scheduleEndOfTurnCommit(flush)
      return
    }
    this.#flush = flush
    this.#timer = setTimeout(this.#release, GATHER_MAX_MS)
  }

  /** Call after each append: the batch closes once it holds what is expected. */
  added(): void {
    if (this.#flush !== null && this.#waiting() >= this.#expected) this.#release()
  }

  /** Call with the size of each batch committed: the next batch expects as many. */
  committed(size: number): void {
    this.#expected = size
  }

  /** Closes a waiting batch at once (the store closes). */
  release(): void {
    this.#release()
  }
}

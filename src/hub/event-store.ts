import type { StoredUpdate, Update } from './update.ts'

/**
 * Where the hub keeps its history and learns of committed updates. Small on purpose (mercure's
 * `Transport`): memory, SQLite and Redis implement it, and one contract suite
 * (`test/store.contract.ts`) holds them all to the same behaviour.
 *
 * Ordering contract: every committed update gets a cursor; cursors are totally ordered; listeners
 * see updates exactly once each, in cursor order; and {@link EventStore.head} moves in the same
 * synchronous step in which listeners are called. The hub relies on that to replay history and
 * switch to live updates with no gap and no duplicate.
 */
export interface EventStore {
  /** A short name for logs and metrics: `memory`, `sqlite`, `redis`. */
  readonly kind: string
  /**
   * Stores `update` durably and resolves with its stored form once committed: a publish is
   * acknowledged only after this resolves. Concurrent appends may be committed together (group
   * commit).
   *
   * Ids are unique within the retained history (an evicted id may be used again). When an update
   * with the same id is retained, or comes earlier in the same group commit, an *identical*
   * update (same topics in order, data, `private`, type and retry) is a retry: it resolves with
   * the update already stored (same cursor) and nothing is stored or dispatched. A different one
   * rejects with a {@link DuplicateIdError}.
   *
   * Rejects with a {@link StoreUnavailableError} (`code` `'store-unavailable'`) when the store
   * failed; its `outcome` says whether the update was not stored (and so not dispatched either)
   * or whether the store cannot tell (appending it again with the same id stores it once).
   */
  append(update: Update): Promise<StoredUpdate>
  /**
   * Registers a listener for committed updates, in cursor order, each exactly once (for Redis:
   * also those committed by other nodes). Returns a function that unregisters it.
   */
  onCommit(listener: (updates: readonly StoredUpdate[]) => void): () => void
  /** The cursor of the newest update delivered to listeners, or `null` when there is none yet. */
  head(): string | null
  /**
   * The `id` of the update at {@link EventStore.head}, or `null` when there is none; it moves in
   * the same synchronous step as `head()`. A persistent store reads it back when it opens, so
   * after a restart the hub's newest id is the store's before anything is published.
   */
  headId(): string | null
  /**
   * The cursor of the stored update with this id, or `null` when no update with that id is
   * retained. When several share an id (stored before ids were unique), the earliest wins
   * (Mercure draft-08).
   */
  find(id: string): Promise<string | null>
  /**
   * Updates with a cursor after `after` (from the oldest retained when `after` is `null`) and at
   * most `upTo`, in cursor order, at most `limit` of them.
   */
  read(after: string | null, upTo: string, limit: number): Promise<StoredUpdate[]>
  /** How many updates are retained (for metrics). */
  size(): Promise<number>
  /**
   * Whether the store can take writes now (for `/readyz`): a persistent store proves it with a
   * probe write (SQLite: a transaction on a probe table; Redis: a `SET` with a short expiry),
   * since a full disk or a read-only replica still answers reads. The probe touches no update,
   * cursor or listener. It may reuse a recent result (SQLite: for 1 s) so that frequent checks
   * cost little.
   */
  ready(): Promise<boolean>
  /** Flushes pending commits, stops timers and releases the store. */
  close(): Promise<void>
}

/**
 * What became of an update whose append failed: `'not-stored'` when it certainly was not stored
 * (nor dispatched), `'unknown'` when the store cannot tell (Redis took the command but did not
 * answer in time, or the connection dropped after it was sent: it may still be stored and
 * delivered).
 */
export type AppendOutcome = 'not-stored' | 'unknown'

/** Options of a {@link StoreUnavailableError}. */
export interface StoreUnavailableErrorOptions extends ErrorOptions {
  /** What became of the update, for a failed append. Defaults to `'not-stored'`. */
  outcome?: AppendOutcome
}

/** Error thrown when a store cannot take or serve updates. */
export class StoreUnavailableError extends Error {
  readonly code = 'store-unavailable'
  /** For a failed append: whether the update may have been stored after all. */
  readonly outcome: AppendOutcome
  constructor(message: string, options?: StoreUnavailableErrorOptions) {
    super(message, options)
    this.name = 'StoreUnavailableError'
    this.outcome = options?.outcome ?? 'not-stored'
  }
}

/**
 * Error an append rejects with when the retained history holds an update with the same id but
 * other content: a publisher reusing an id, not retrying. Its message names no id or data.
 */
export class DuplicateIdError extends Error {
  readonly code = 'duplicate-id'
  constructor() {
    super(
      'an update with this id is already in the history; publish with another id, or resend the same update to retry it',
    )
    this.name = 'DuplicateIdError'
  }
}

import type { StoredUpdate, Update } from '../hub/update.ts'

/** Retention of the history, shared by every store. */
export interface RetentionOptions {
  /** Keep at most this many updates (the oldest go first). Defaults to `100000`. */
  maxUpdates?: number
  /** Drop updates older than this, in milliseconds; `null` keeps them by count only. Defaults to `null`. */
  maxAgeMs?: number | null
}

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
   * commit). Rejects (with an error whose `code` is `'store-unavailable'`) when the update was not
   * stored; it is then not dispatched either.
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
   * The cursor of the stored update with this id, or `null` when no update with that id is
   * retained. When several share an id, the earliest wins (Mercure draft-08).
   */
  find(id: string): Promise<string | null>
  /**
   * Updates with a cursor after `after` (from the oldest retained when `after` is `null`) and at
   * most `upTo`, in cursor order, at most `limit` of them.
   */
  read(after: string | null, upTo: string, limit: number): Promise<StoredUpdate[]>
  /** How many updates are retained (for metrics). */
  size(): Promise<number>
  /** Whether the store can take writes now (for `/readyz`). */
  ready(): Promise<boolean>
  /** Flushes pending commits, stops timers and releases the store. */
  close(): Promise<void>
}

/** Error thrown when a store cannot take or serve updates. */
export class StoreUnavailableError extends Error {
  readonly code = 'store-unavailable'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'StoreUnavailableError'
  }
}

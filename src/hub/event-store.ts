import type { ClusterView } from './cluster-view.ts'
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
   * Ids should be unique, but a store accepts a reused one (Mercure draft-08). An update
   * *identical* (same id, topics in order, data, `private`, type and retry) to a retained one,
   * or to one earlier in the same group commit, is a retry: it resolves with the update already
   * stored (same cursor) and nothing is stored or dispatched. An update that reuses an id with
   * other content is stored as a new update, with a cursor of its own, and dispatched: the
   * earlier one stays in the history, untouched. (The memory and SQLite stores look for the
   * repeated update among the newest 64 retained with its id, a DoS guard: see
   * `MAX_RETRY_MATCHES` in `src/storage/stored-update.ts`; Redis among all of them.)
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
   * The cursor of the earliest retained update with this id, or `null` when no update with that
   * id is retained. [spec] "a cursor naming a reused id MUST resolve to the EARLIEST retained
   * update with that id" (Mercure draft-08): replaying after it then sends the later updates
   * that reuse the id too. When the earliest left the history, a later one still retained is
   * the earliest.
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
  /** The cluster of nodes sharing this store (Redis), if it is shared. */
  readonly cluster?: ClusterView
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
 * Whether the update at `cursor`, whose id is `id`, is still retained. `find` gives the earliest
 * retained update with that id, and eviction goes oldest first: the update is retained exactly
 * when that one is at or before it. One `find`, plus, only when the id was reused, one `read` of
 * at most one update to order the two cursors (an empty range when the found one is later).
 */
export async function retains(store: EventStore, cursor: string, id: string): Promise<boolean> {
  const earliest = await store.find(id)
  if (earliest === null) return false
  if (earliest === cursor) return true
  return (await store.read(earliest, cursor, 1)).length > 0
}

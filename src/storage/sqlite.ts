import { type EventStore, StoreUnavailableError } from '../hub/event-store.ts'
import { GENERATED_ID, type StoredUpdate, type Update } from '../hub/update.ts'
import { CommitGather } from './commit-gather.ts'
import { CommitListeners } from './commit-listeners.ts'
import { DEFAULT_MAX_UPDATES } from './defaults.ts'
import { keepDriverHandle } from './driver-handle.ts'
import { type CommitOutcomes, GroupCommit } from './group-commit.ts'
import { DEFAULT_RECENT_BYTES, RecentUpdates } from './recent-updates.ts'
import type { RetentionOptions } from './retention.ts'
import { SqliteBatchInsert } from './sqlite-batch-insert.ts'
import {
  inImmediateTransaction,
  type SqliteConnection,
  type SqliteDriverChoice,
  type SqliteDriverName,
  type SqliteStatement,
} from './sqlite-connection.ts'
import { describeSqliteError as describe } from './sqlite-failures.ts'
import { openSqliteConnection } from './sqlite-open.ts'
import { SqliteWriteProbe } from './sqlite-probe.ts'
import { fromRow, type InsertParams, type Row, rowColumns, toParams } from './sqlite-rows.ts'
import { migrate } from './sqlite-schema.ts'
import {
  checkMaxAgeMs,
  checkPositiveInteger,
  MAX_RETRY_MATCHES,
  parseSequenceCursor,
  storedUpdate,
} from './stored-update.ts'

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions extends RetentionOptions {
  /**
   * The database file. It and its parent directory are created when missing; `':memory:'` keeps
   * the database in this process only (for tests). Required.
   */
  path: string
  /**
   * How hard each commit waits for the disk before an append resolves (SQLite's
   * `PRAGMA synchronous`, in WAL mode):
   *
   * - `'full'`: every commit is fsynced, so an acknowledged update survives a power loss or a
   *   kernel crash.
   * - `'normal'`: commits reach the operating system but are fsynced only at checkpoints, so an
   *   acknowledged update survives a crash or kill of the hub process, but the last ones may be
   *   lost (never corrupted) on power loss.
   *
   * Defaults to `'full'`.
   */
  synchronous?: 'full' | 'normal'
  /**
   * The most appends committed in one transaction (group commit); more waiting appends go in the
   * next one, after the event loop had a turn. Defaults to `1000`.
   */
  maxBatch?: number
  /**
   * Approximate bytes of the newest updates also kept in memory, so that replaying recent history
   * (clients reconnecting a few hundred updates behind) reads no rows from the file; `0` keeps
   * none. Older history is read from the file. Defaults to `16777216` (16 MiB).
   */
  recentBytes?: number
  /**
   * The SQLite driver:
   *
   * - `'auto'`: Node's built-in `node:sqlite` when the running Node has it (22.13 and later),
   *   else the `better-sqlite3` package;
   * - `'node:sqlite'`: only the built-in module (a `MissingDriverError` on Node 20);
   * - `'better-sqlite3'`: only the package (a `MissingDriverError` when it is not installed, or
   *   was compiled for another Node).
   *
   * Both commit, fsync and read alike (the same SQL, pragmas and file format), so a file written
   * with one opens with the other. Defaults to `'auto'`.
   */
  driver?: SqliteDriverChoice
}

const DEFAULT_MAX_BATCH = 1000
/**
 * How long a write waits for another connection's lock, in milliseconds. Both drivers wait
 * synchronously, so this blocks the event loop: it only ever matters when something outside the
 * hub (a backup, the sqlite3 shell) writes to the file.
 */
const BUSY_TIMEOUT_MS = 2000
/** Deletion by age runs at most this often, in milliseconds; reads filter exactly meanwhile. */
const PRUNE_INTERVAL_MS = 1000
/** Stands for "no age limit" in the age filter of the queries. */
const NO_CUTOFF = Number.MIN_SAFE_INTEGER
/**
 * The most rows past the count limit left in the file before a commit deletes them (1/64 of
 * `maxUpdates`, so a history of 64 or fewer is deleted exactly). Deleting the oldest rows frees
 * pages that the next inserts take from SQLite's freelist out of order; each commit that deletes
 * rewrites the freelist, the header and the left edge of both B-trees, so deleting a chunk now and
 * then rather than a few rows per commit writes about a third fewer bytes per row to the WAL
 * (3.5 to 2.5 KiB at 20 rows a commit, measured on a history of 100,000). Reads filter by the
 * count floor, so the rows waiting for deletion are never served.
 */
const MAX_PRUNE_LAG = 256
/**
 * SQLite's page cache, in KiB (`PRAGMA cache_size` takes KiB when negative). A commit whose
 * B-tree balancing renumbered a page (it does, when the freelist hands pages out of order) ends by
 * scanning the cache's whole hash table (pcache1TruncateUnsafe): with better-sqlite3's default of
 * 16 MiB that scan was 3 % of the hub's CPU under durable publishing. Publishing touches the edges
 * of two B-trees, and replays of recent history come from memory (`recentBytes`), so 2 MiB holds
 * what is hot; older history is read through the operating system's cache.
 */
const PAGE_CACHE_KIB = 2048

/**
 * What the commit did with one append: the seq of its new row, or the retained row it repeats (an
 * identical retry).
 */
type Outcome = number | Row

/** One append waiting for its transaction. */
interface Pending {
  readonly update: Update
  readonly params: InsertParams
}

/**
 * History in an SQLite file, surviving restarts: a publish is acknowledged once its transaction
 * is committed. Appends made during one event-loop turn are committed together in one
 * transaction (group commit), which is what makes durable publishing fast. Cursors are the
 * decimal `seq` of the row, and continue across restarts. Rows past `maxUpdates` are never served,
 * and are deleted from the file in chunks: it holds at most `maxUpdates / 64` of them (256 at
 * most) at any time.
 */
export class SqliteStore implements EventStore {
  readonly kind = 'sqlite'
  /** The driver it runs on, as picked by the `driver` option. */
  readonly driver: SqliteDriverName
  readonly #db: SqliteConnection
  readonly #maxUpdates: number
  readonly #maxAgeMs: number | null
  /** Rows past the count limit left in the file before a commit deletes them. */
  readonly #pruneLag: number
  readonly #commit: (
    batch: readonly Pending[],
    lastSeq: number,
    cutoff: number,
    prunedUpTo: number,
  ) => Outcome[]
  readonly #find: SqliteStatement<[string, number, number], { seq: number }>
  readonly #read: SqliteStatement<[number, number, number, number], Row>
  readonly #firstRetained: SqliteStatement<[number, number], { seq: number }>
  readonly #delete: SqliteStatement<[number]>
  readonly #probe: SqliteWriteProbe
  /** The newest committed seq: rows past it do not exist, rows up to it were dispatched. */
  #lastSeq: number
  #lastTime: number
  #head: string | null
  #headId: string | null
  /** Rows at or below this seq are deleted from the file. */
  #prunedUpTo = 0
  #lastPrune = 0
  readonly #appends: GroupCommit<Pending, StoredUpdate>
  readonly #gather: CommitGather
  readonly #listeners = new CommitListeners()
  readonly #recent: RecentUpdates
  readonly #timer: ReturnType<typeof setInterval> | undefined
  #closed = false
  #closing: Promise<void> | undefined

  /**
   * Prefer {@link createSqliteStore}. Throws a `RangeError` for invalid options, a
   * `MissingDriverError` when no driver can be loaded, and a {@link StoreUnavailableError} when
   * the database cannot be opened or is from a newer version.
   */
  constructor(options: SqliteStoreOptions) {
    this.#maxUpdates = checkPositiveInteger('maxUpdates', options.maxUpdates, DEFAULT_MAX_UPDATES)
    this.#maxAgeMs = checkMaxAgeMs(options.maxAgeMs)
    this.#pruneLag = Math.min(MAX_PRUNE_LAG, Math.floor(this.#maxUpdates / 64))
    // The batch closes at the end of a turn, not in a microtask, and not before it holds as many
    // appends as the last one (1 ms at most, see commit-gather.ts): publishers answered by the last
    // commit append again before the next transaction, so one fsync covers all of them. A
    // transaction blocks the event loop while it runs: at most `maxBatch` appends in each, one
    // transaction a turn.
    this.#gather = new CommitGather(() => this.#appends.waiting)
    this.#appends = new GroupCommit({
      schedule: this.#gather.schedule,
      maxItems: checkPositiveInteger('maxBatch', options.maxBatch, DEFAULT_MAX_BATCH),
      batchesPerTurn: 'one',
      commit: (batch) => {
        this.#gather.committed(batch.length)
        return this.#flush(batch)
      },
    })
    this.#recent = new RecentUpdates(options.recentBytes ?? DEFAULT_RECENT_BYTES, this.#maxUpdates)
    const synchronous = options.synchronous ?? 'full'
    if (synchronous !== 'full' && synchronous !== 'normal') {
      throw new RangeError(`synchronous must be 'full' or 'normal', got ${String(synchronous)}`)
    }
    this.#db = openSqliteConnection(options.path, options.driver ?? 'auto')
    this.driver = this.#db.driver
    keepDriverHandle(this, this.#db)
    try {
      // WAL: a commit appends to one file (one fsync with 'full') and readers never block it.
      this.#db.pragma('journal_mode = WAL')
      this.#db.pragma(`synchronous = ${synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
      this.#db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`)
      this.#db.pragma(`cache_size = -${PAGE_CACHE_KIB}`)
      migrate(this.#db)
    } catch (error) {
      this.#db.close()
      throw error instanceof StoreUnavailableError
        ? error
        : new StoreUnavailableError(`could not set up the SQLite database: ${describe(error)}`, {
            cause: error,
          })
    }
    const db = this.#db
    const columns = rowColumns(db.textKeepsNul)
    const insert = db.prepare<InsertParams, never>(
      'INSERT INTO updates (id, topics, data, private, type, retry, time) VALUES (?, ?, ?, ?, ?, ?, ?)',
    )
    const deleteUpTo = db.prepare<[number], never>('DELETE FROM updates WHERE seq <= ?')
    this.#delete = deleteUpTo
    // Index-only (the index holds id and seq): for a new id, the common case, no row is read.
    const sameId = db.prepare<[string, number], { seq: number }>(
      'SELECT seq FROM updates WHERE id = ? AND seq > ? ORDER BY seq LIMIT 1',
    )
    // The newest retained rows with the id, compared in SQL (BINARY: byte for byte, a NUL
    // included), so no row is read out unless it is the one repeated.
    const retry = db.prepare<[string, number, number, ...Omit<InsertParams, 0 | 6>], Row>(
      `SELECT ${columns} FROM (SELECT * FROM updates WHERE id = ? AND seq > ? AND time >= ?
        ORDER BY seq DESC LIMIT ${MAX_RETRY_MATCHES})
      WHERE topics = ? AND data = ? AND private = ? AND type IS ? AND retry IS ? LIMIT 1`,
    )
    // Retention by count happens in the commit itself: each commit deletes about as many rows as
    // it adds, so the work per commit is constant, with no extra transaction (and fsync) and no
    // long delete now and then that stalls every publisher. In bench/durable-publish.bench.ts
    // that gave about a quarter more updates/s, and half the p99.9 latency, than deleting in a
    // transaction of its own once per second or every 4096 rows.
    //
    // An append that repeats a retained row (a retry) stores nothing: each append looks its id up
    // in the `updates_id` index, within the history as it is when that row would join it (after
    // the rows before it in the batch, which it also sees). A batch whose ids are distinct and
    // none retained, the common case, is stored by sqlite-batch-insert.ts: one probe and one
    // INSERT per chunk of rows. Any other batch goes row by row. A reused id with other content is
    // stored as a new row (Mercure draft-08).
    //
    // IMMEDIATE takes the write lock up front, so a busy database fails before any row.
    const batchInsert = new SqliteBatchInsert(db)
    this.#commit = (batch, lastSeq, cutoff, prunedUpTo) =>
      inImmediateTransaction(db, () => {
        let outcomes: Outcome[] = []
        let seq = lastSeq
        const rows: InsertParams[] = new Array(batch.length)
        // Only the ids publishers chose are looked up: the hub's own are fresh (GENERATED_ID).
        const chosen: string[] = []
        for (let i = 0; i < batch.length; i++) {
          const { update, params } = batch[i] as Pending
          rows[i] = params
          if (update[GENERATED_ID] !== true) chosen.push(params[0])
        }
        if (batchInsert.allNew(chosen, lastSeq - this.#maxUpdates)) {
          // The common case: no retry among them, all inserted by a statement per chunk.
          outcomes = batchInsert.insert(rows)
          seq = outcomes[outcomes.length - 1] as number
        } else {
          for (const { update, params } of batch) {
            const floor = seq - this.#maxUpdates
            const [id, topics, data, priv, type, retries] = params
            const same =
              update[GENERATED_ID] === true || sameId.get(id, floor) === undefined
                ? undefined
                : retry.get(id, floor, cutoff, topics, data, priv, type, retries)
            if (same === undefined) {
              seq = Number(insert.run(...params).lastInsertRowid)
              outcomes.push(seq)
            } else {
              outcomes.push(same)
            }
          }
        }
        const floor = seq - this.#maxUpdates
        if (this.#pruneDue(floor, prunedUpTo)) deleteUpTo.run(floor)
        return outcomes
      })
    // Every query carries the retention window (seq above the count floor, time at or after the
    // age cutoff), so what is served is exact even while physical deletion lags behind.
    this.#find = db.prepare(
      'SELECT seq FROM updates WHERE id = ? AND seq > ? AND time >= ? ORDER BY seq LIMIT 1',
    )
    this.#read = db.prepare(
      `SELECT ${columns} FROM updates WHERE seq > ? AND seq <= ? AND time >= ? ORDER BY seq LIMIT ?`,
    )
    // Walks up from the oldest row, so it costs as many rows as are expired but not yet deleted:
    // a second's worth at most.
    this.#firstRetained = db.prepare(
      'SELECT seq FROM updates WHERE seq > ? AND time >= ? ORDER BY seq LIMIT 1',
    )
    this.#probe = new SqliteWriteProbe(db)
    const last = db
      .prepare<[], Pick<Row, 'seq' | 'id' | 'time'>>(
        'SELECT seq, id, time FROM updates ORDER BY seq DESC LIMIT 1',
      )
      .get()
    this.#lastSeq = last?.seq ?? 0
    this.#lastTime = last?.time ?? 0
    // Restarted: the head is the newest row, so cursors and replay continue where they were.
    this.#head = last === undefined ? null : String(last.seq)
    this.#headId = last?.id ?? null
    if (this.#maxAgeMs !== null) {
      this.#timer = setInterval(
        () => this.#prune(Date.now()),
        Math.min(this.#maxAgeMs, PRUNE_INTERVAL_MS),
      )
      // Pruning is housekeeping: it must not keep an otherwise finished process alive.
      this.#timer.unref()
    }
  }

  append(update: Update): Promise<StoredUpdate> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError('the SQLite store is closed'))
    const added = this.#appends.add({ update, params: toParams(update) })
    this.#gather.added()
    return added
  }

  onCommit(listener: (updates: readonly StoredUpdate[]) => void): () => void {
    return this.#listeners.add(listener)
  }

  head(): string | null {
    return this.#head
  }

  headId(): string | null {
    return this.#headId
  }

  async find(id: string): Promise<string | null> {
    const row = this.#query(() => this.#find.get(id, this.#floor(), this.#cutoff(Date.now())))
    return row === undefined ? null : String(row.seq)
  }

  async read(after: string | null, upTo: string, limit: number): Promise<StoredUpdate[]> {
    const from = Math.max(after === null ? 0 : parseSequenceCursor(after, 'SQLite'), this.#floor())
    const to = parseSequenceCursor(upTo, 'SQLite')
    const count = Math.max(0, Math.floor(limit))
    const cutoff = this.#cutoff(Date.now())
    const recent = this.#recent.read(from, to, count, cutoff)
    if (recent !== null) return recent
    const rows = this.#query(() => this.#read.all(from, to, cutoff, count))
    return rows.map(fromRow)
  }

  async size(): Promise<number> {
    // Arithmetic rather than count(*), which reads every row (~13 ms for 100000, blocking the
    // event loop): seqs are contiguous (AUTOINCREMENT in transactions where this store is the
    // only writer; a rolled-back one hands its numbers back), deletion only removes the oldest,
    // and time never decreases with seq, so every row from the first retained one is retained.
    const first = this.#query(() =>
      this.#firstRetained.get(this.#floor(), this.#cutoff(Date.now())),
    )
    return first === undefined ? 0 : this.#lastSeq - first.seq + 1
  }

  /** Whether a probe write commits (see `sqlite-probe.ts`); a result is reused for 1 s. */
  async ready(): Promise<boolean> {
    return !this.#closed && this.#probe.check()
  }

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#closed = true
    // When called from a listener, the flush that called it is still running: committing now
    // would deliver the newer updates to the listeners still waiting for the older ones.
    await undefined
    this.#gather.release()
    this.#appends.drain()
    clearInterval(this.#timer)
    this.#db.close()
  }

  /** Commits one batch of appends in one transaction, then dispatches them. */
  #flush(batch: readonly Pending[]): CommitOutcomes<StoredUpdate> {
    // A clock stepped back must not make time go backwards in the history: age pruning walks
    // from the oldest row and stops at the first fresh one.
    const time = Math.max(Date.now(), this.#lastTime)
    for (const pending of batch) pending.params[6] = time
    let outcomes: Outcome[]
    try {
      outcomes = this.#commit(batch, this.#lastSeq, this.#cutoff(time), this.#prunedUpTo)
    } catch (error) {
      // Nothing was committed (the transaction rolled back), so nothing is dispatched.
      this.#probe.stale()
      throw new StoreUnavailableError(
        `could not commit ${batch.length} update(s) to SQLite: ${describe(error)}`,
        { cause: error },
      )
    }
    const seqs: number[] = []
    const stored: StoredUpdate[] = []
    const results: StoredUpdate[] = []
    for (const [i, outcome] of outcomes.entries()) {
      if (typeof outcome === 'number') {
        const update = storedUpdate((batch[i] as Pending).update, String(outcome), time)
        seqs.push(outcome)
        stored.push(update)
        results.push(update)
      } else {
        // A retry of an update earlier in this batch gets that update's stored form.
        const cursor = String(outcome.seq)
        results.push(stored.find((update) => update.cursor === cursor) ?? fromRow(outcome))
      }
    }
    const newest = stored.at(-1)
    if (newest !== undefined) {
      this.#lastTime = time
      this.#lastSeq = seqs[seqs.length - 1] as number
      // The commit deleted the rows up to the floor when they were due.
      if (this.#pruneDue(this.#floor(), this.#prunedUpTo)) this.#prunedUpTo = this.#floor()
      this.#head = newest.cursor
      this.#headId = newest.id
      this.#recent.add(seqs, stored)
      this.#listeners.dispatch(Object.freeze(stored))
    }
    if (this.#maxAgeMs !== null && time - this.#lastPrune >= PRUNE_INTERVAL_MS) this.#prune(time)
    return results
  }

  /** Deletes the rows older than `maxAgeMs` (the oldest first, so always a prefix of seq). */
  #prune(now: number): void {
    if (this.#maxAgeMs === null) return
    this.#lastPrune = now
    try {
      const fresh = this.#firstRetained.get(this.#prunedUpTo, now - this.#maxAgeMs)
      const upTo = fresh === undefined ? this.#lastSeq : fresh.seq - 1
      if (upTo <= this.#prunedUpTo) return
      this.#delete.run(upTo)
      this.#prunedUpTo = upTo
    } catch {
      // Housekeeping only: queries already hide these rows, and a database that really fails
      // will fail the next append, which reports it.
    }
  }

  /** Whether a commit deletes the rows up to `floor`: more than the lag wait for deletion. */
  #pruneDue(floor: number, prunedUpTo: number): boolean {
    return floor - prunedUpTo > this.#pruneLag
  }

  /** Rows at or below this seq are past the count limit. */
  #floor(): number {
    return Math.max(0, this.#lastSeq - this.#maxUpdates)
  }

  #cutoff(now: number): number {
    return this.#maxAgeMs === null ? NO_CUTOFF : now - this.#maxAgeMs
  }

  #query<T>(run: () => T): T {
    try {
      return run()
    } catch (error) {
      throw new StoreUnavailableError(`could not read from SQLite: ${describe(error)}`, {
        cause: error,
      })
    }
  }
}

/**
 * Opens (creating when missing) an SQLite store, on Node's built-in `node:sqlite` or on
 * `better-sqlite3` (see {@link SqliteStoreOptions.driver}). Throws a `RangeError` for invalid
 * options, a `MissingDriverError` when no driver can be loaded (its message says what to install
 * or which Node to use), and a {@link StoreUnavailableError} when the database cannot be opened
 * or is from a newer version.
 */
export function createSqliteStore(options: SqliteStoreOptions): SqliteStore {
  return new SqliteStore(options)
}

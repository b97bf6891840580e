// The one shape the SQLite store talks to, whichever driver is under it: Node's built-in
// `node:sqlite` (`sqlite-node-driver.ts`) or the `better-sqlite3` package
// (`sqlite-better-driver.ts`); `sqlite-open.ts` picks one. Only what both do alike is here:
// positional parameters, integers read as numbers, rows as objects, transactions as plain SQL.

/** The drivers the SQLite store can run on. */
export type SqliteDriverName = 'node:sqlite' | 'better-sqlite3'

/** The driver asked for: one by name, or `'auto'` (`node:sqlite` when Node has it). */
export type SqliteDriverChoice = SqliteDriverName | 'auto'

/** A value bound to a `?` parameter. */
export type SqliteValue = string | number | bigint | null | Uint8Array

/** What running a writing statement reports. */
export interface SqliteRunResult {
  readonly changes: number | bigint
  /** The rowid of the last row inserted, a `number` while it is a safe integer. */
  readonly lastInsertRowid: number | bigint
}

/**
 * A prepared statement with positional (`?`) parameters. Both drivers' own statements fit as
 * they are, so the store's hot path runs through no wrapper.
 */
export interface SqliteStatement<P extends SqliteValue[] = SqliteValue[], R = SqliteRow> {
  run(...params: P): SqliteRunResult
  /** The first row, or `undefined` when there is none. */
  get(...params: P): R | undefined
  all(...params: P): R[]
}

/** A row as the drivers return it: one property per column, integers as numbers. */
export type SqliteRow = Record<string, unknown>

/** An open database, on either driver. */
export interface SqliteConnection {
  /** The driver under it. */
  readonly driver: SqliteDriverName
  /** Runs one or more statements that return nothing. */
  exec(sql: string): void
  /** Prepares one statement; `P` and `R` are the caller's word, as in the drivers' typings. */
  prepare<P extends SqliteValue[] = SqliteValue[], R = SqliteRow>(
    sql: string,
  ): SqliteStatement<P, R>
  /**
   * Runs `PRAGMA <source>` (`'page_size'`, `'user_version = 2'`) and returns the first column of
   * its first row, or `undefined` when it returns none.
   */
  pragma(source: string): unknown
  /**
   * Whether a transaction is open. `true` when the driver cannot tell (`node:sqlite` before
   * Node 22.16): a `ROLLBACK` is then tried, and its "no transaction is active" ignored.
   */
  readonly inTransaction: boolean
  /**
   * Whether text holding U+0000 is read whole. `false` on `node:sqlite` before Node 24.16 and
   * 26.1 (every Node 22), which cuts it at the NUL; the store then reads such text as bytes
   * (`sqlite-rows.ts`).
   */
  readonly textKeepsNul: boolean
  /** Closes the database; closing it again does nothing. */
  close(): void
}

/**
 * Runs `run` in a `BEGIN IMMEDIATE` transaction and commits it: the write lock is taken up front,
 * so a busy database fails before any row. When `run` or the commit throws, the transaction is
 * rolled back and the error rethrown; nothing of it is committed.
 */
export function inImmediateTransaction<T>(db: SqliteConnection, run: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const result = run()
    db.exec('COMMIT')
    return result
  } catch (error) {
    // A failed COMMIT (SQLITE_BUSY) leaves the transaction open; a full disk or an I/O error
    // may have rolled it back already, which makes this ROLLBACK fail harmlessly.
    if (db.inTransaction) {
      try {
        db.exec('ROLLBACK')
      } catch {
        // Already rolled back, or the handle is gone: either way nothing was committed.
      }
    }
    throw error
  }
}

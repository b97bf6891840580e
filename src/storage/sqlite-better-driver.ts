// The SQLite store on the `better-sqlite3` package: the fallback for a Node without `node:sqlite`
// (Node 20, and 22 before 22.13), or the driver a user asks for. It is a native module, compiled
// for one Node ABI when it is installed. The only file that loads it.

import type Database from 'better-sqlite3'
import { loadDriver } from './load-driver.ts'
import type { SqliteConnection, SqliteStatement, SqliteValue } from './sqlite-connection.ts'

/** The `better-sqlite3` module's export: the `Database` class. */
export type BetterSqlite3 = typeof Database

/**
 * Loads `better-sqlite3` for `usedBy` (the entry point, for the message).
 *
 * @throws {MissingDriverError} when it is not installed. A native module built for another
 *   Node (`ERR_DLOPEN_FAILED`) is rethrown as it is, for the caller to explain.
 */
export function loadBetterSqlite3(usedBy: string): BetterSqlite3 {
  return loadDriver<BetterSqlite3>('better-sqlite3', usedBy)
}

/** Opens (creating when missing) the database at `path` with `better-sqlite3`. */
export function openBetterSqlite3(Driver: BetterSqlite3, path: string): SqliteConnection {
  return new BetterSqlite3Connection(new Driver(path))
}

class BetterSqlite3Connection implements SqliteConnection {
  readonly driver = 'better-sqlite3'
  readonly textKeepsNul = true
  readonly #db: Database.Database

  constructor(db: Database.Database) {
    this.#db = db
  }

  get inTransaction(): boolean {
    return this.#db.inTransaction
  }

  exec(sql: string): void {
    this.#db.exec(sql)
  }

  prepare<P extends SqliteValue[], R>(sql: string): SqliteStatement<P, R> {
    return this.#db.prepare<P, R>(sql)
  }

  pragma(source: string): unknown {
    return this.#db.pragma(source, { simple: true })
  }

  close(): void {
    if (this.#db.open) this.#db.close()
  }
}

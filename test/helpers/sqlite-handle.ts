// The SQLite store's connection, for tests that inject faults: close it, make it read-only
// (`PRAGMA query_only`), cap its size (`PRAGMA max_page_count`) or count its rows. The store keeps
// it out of its public type (src/storage/driver-handle.ts). It is the store's driver seam
// (src/storage/sqlite-connection.ts), so the same test runs on node:sqlite and better-sqlite3.

import { driverHandleOf } from '../../src/storage/driver-handle.ts'
import type { SqliteStore } from '../../src/storage/sqlite.ts'
import type { SqliteConnection } from '../../src/storage/sqlite-connection.ts'

/**
 * The connection under `store`, on whichever driver it runs. The store assumes it is its
 * database's only writer: restore what a test changes.
 */
export function databaseHandleForTesting(store: SqliteStore): SqliteConnection {
  return driverHandleOf(store) as SqliteConnection
}

/** The number of rows in the `updates` table under `store`, read from the file. */
export function countRowsForTesting(store: SqliteStore): number {
  const row = databaseHandleForTesting(store)
    .prepare<[], { n: number }>('SELECT count(*) AS n FROM updates')
    .get()
  return row?.n ?? 0
}

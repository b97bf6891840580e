// The SQLite store's driver handle, for tests that inject faults: close it, make it read-only
// (`PRAGMA query_only`), cap its size (`PRAGMA max_page_count`) or count its rows. The store keeps
// it out of its public type (src/storage/driver-handle.ts); only tests know it is better-sqlite3.

import type Database from 'better-sqlite3'
import { driverHandleOf } from '../../src/storage/driver-handle.ts'
import type { SqliteStore } from '../../src/storage/sqlite.ts'

/**
 * The better-sqlite3 handle under `store`. The store assumes it is its database's only writer:
 * restore what a test changes.
 */
export function databaseHandleForTesting(store: SqliteStore): Database.Database {
  return driverHandleOf(store) as Database.Database
}

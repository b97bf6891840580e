/**
 * ssehub/storage/sqlite: the history in an SQLite file, surviving restarts, with group commit.
 * It runs on Node's built-in `node:sqlite` (Node 22.13 and later), or else on the
 * `better-sqlite3` package: when neither is there, `createSqliteStore` throws a
 * `MissingDriverError` that says what to install or which Node to use.
 *
 * @module
 */
export { MissingDriverError } from '../load-driver.ts'
export type { RetentionOptions } from '../retention.ts'
export { createSqliteStore, SqliteStore, type SqliteStoreOptions } from '../sqlite.ts'
export type { SqliteDriverChoice, SqliteDriverName } from '../sqlite-connection.ts'

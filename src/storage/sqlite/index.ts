/**
 * ssehub/storage/sqlite: the history in an SQLite file, surviving restarts, with group commit.
 * It needs the `better-sqlite3` package: when it is not installed, `createSqliteStore` throws a
 * `MissingDriverError` that says so.
 *
 * @module
 */
export { MissingDriverError } from '../load-driver.ts'
export type { RetentionOptions } from '../retention.ts'
export { createSqliteStore, SqliteStore, type SqliteStoreOptions } from '../sqlite.ts'

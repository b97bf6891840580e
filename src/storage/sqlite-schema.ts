// The SQLite store's schema, and how an older file is brought up to it.

import { StoreUnavailableError } from '../hub/event-store.ts'
import { inImmediateTransaction, type SqliteConnection } from './sqlite-connection.ts'

/**
 * Schema migrations: entry `i` takes the database from `PRAGMA user_version` `i` to `i + 1`. Only
 * ever append to this list; a released entry must never change. (`updates_id` was never UNIQUE,
 * so accepting reused ids, Mercure draft-08, took no migration: version 1 databases hold them.)
 */
const MIGRATIONS: ReadonlyArray<(db: SqliteConnection) => void> = [
  (db) => {
    // seq is AUTOINCREMENT so a cursor is never reused, even after retention emptied the table.
    db.exec(`
      CREATE TABLE updates (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        id TEXT NOT NULL,
        topics TEXT NOT NULL,
        data TEXT NOT NULL,
        private INTEGER NOT NULL,
        type TEXT,
        retry INTEGER,
        time INTEGER NOT NULL
      );
      CREATE INDEX updates_id ON updates (id);
    `)
  },
]

/**
 * Brings the database up to the schema this ssehub knows, in one transaction. Throws a
 * {@link StoreUnavailableError} for a database from a newer version.
 */
export function migrate(db: SqliteConnection): void {
  const version = Number(db.pragma('user_version'))
  if (version > MIGRATIONS.length) {
    throw new StoreUnavailableError(
      `the SQLite database has schema version ${version}, newer than the ${MIGRATIONS.length} ` +
        'this ssehub knows: upgrade ssehub, or point it at another file',
    )
  }
  if (version === MIGRATIONS.length) return
  inImmediateTransaction(db, () => {
    for (let v = version; v < MIGRATIONS.length; v++) MIGRATIONS[v]?.(db)
    db.pragma(`user_version = ${MIGRATIONS.length}`)
  })
}

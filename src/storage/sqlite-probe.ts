// The SQLite store's readiness probe: a write, not a `SELECT 1`. A disk that filled up, a file
// system remounted read-only after I/O errors, or a database at its `max_page_count` still answer
// every read while each publish fails. No driver here: `sqlite.ts` hands over its connection.

import type { SqliteConnection, SqliteStatement } from './sqlite-connection.ts'

/** The part of the store's connection the probe uses. */
export type ProbeHandle = Pick<SqliteConnection, 'exec' | 'prepare' | 'pragma' | 'inTransaction'>

type ProbeStatement = SqliteStatement<[number]>

/** How often the probe writes at most, in milliseconds (`/readyz` may be asked far more often). */
const PROBE_INTERVAL_MS = 1000

/**
 * Checks that the database takes a write, in one `BEGIN IMMEDIATE` transaction that:
 *
 * 1. inserts a row one page long into `ssehub_probe` inside a savepoint, then rolls the savepoint
 *    back: the database had to find a free page or grow by one (what a full disk or
 *    `max_page_count` refuses, with `SQLITE_FULL`), yet neither grows nor keeps the row;
 * 2. updates one tiny row, and commits: the write lock, a WAL append and its fsync, which a
 *    read-only file or an I/O error refuse.
 *
 * The table is created at the first probe (`CREATE TABLE IF NOT EXISTS`, not a migration: older
 * ssehub versions open the file unchanged). A result is reused for {@link PROBE_INTERVAL_MS},
 * so hammering `/readyz` costs at most one small fsync a second.
 */
export class SqliteWriteProbe {
  readonly #db: ProbeHandle
  readonly #intervalMs: number
  #statements: { pad: ProbeStatement; beat: ProbeStatement } | null = null
  #pageSize = 4096
  #at = Number.NEGATIVE_INFINITY
  #last = false

  constructor(db: ProbeHandle, intervalMs = PROBE_INTERVAL_MS) {
    this.#db = db
    this.#intervalMs = intervalMs
  }

  /** Whether the last probe, run now unless one ran within the interval, could write. */
  check(now = Date.now()): boolean {
    if (now - this.#at < this.#intervalMs) return this.#last
    this.#at = now
    this.#last = this.#probe(now)
    return this.#last
  }

  /** Forgets the last result (a commit just failed): the next {@link check} probes again. */
  stale(): void {
    this.#at = Number.NEGATIVE_INFINITY
  }

  #probe(now: number): boolean {
    const db = this.#db
    try {
      this.#statements ??= this.#prepare()
      const { pad, beat } = this.#statements
      db.exec('BEGIN IMMEDIATE')
      db.exec('SAVEPOINT probe_grow')
      try {
        pad.run(this.#pageSize)
      } finally {
        db.exec('ROLLBACK TO probe_grow')
        db.exec('RELEASE probe_grow')
      }
      beat.run(now)
      db.exec('COMMIT')
      return true
    } catch {
      try {
        if (db.inTransaction) db.exec('ROLLBACK')
      } catch {
        // The handle is gone or the file unusable: the probe has failed either way.
      }
      return false
    }
  }

  #prepare() {
    const db = this.#db
    db.exec(
      'CREATE TABLE IF NOT EXISTS ssehub_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL, pad BLOB)',
    )
    this.#pageSize = Number(db.pragma('page_size')) || 4096
    return {
      pad: db.prepare<[number]>(
        'INSERT INTO ssehub_probe (id, at, pad) VALUES (2, 0, zeroblob(?))',
      ),
      beat: db.prepare<[number]>(
        'INSERT INTO ssehub_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at',
      ),
    }
  }
}

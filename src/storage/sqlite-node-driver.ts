// The SQLite store on Node's built-in `node:sqlite` (`DatabaseSync`): no package, no compiler, no
// download. The only file that loads it. Node 22.13 and later have it unflagged (22.5 to 22.12
// behind `--experimental-sqlite`); Node 20 has none. Node 22 prints one ExperimentalWarning
// when it is loaded; Node 24 no longer does.

import type {
  SqliteConnection,
  SqliteRow,
  SqliteStatement,
  SqliteValue,
} from './sqlite-connection.ts'

// This package's @types/node is Node 20's, which has no `node:sqlite`: the part used, by hand.
interface NodeStatement {
  get(...params: SqliteValue[]): SqliteRow | undefined
}

interface DatabaseSync {
  exec(sql: string): void
  prepare(sql: string): NodeStatement
  close(): void
  /** Node 22.16 and later. */
  readonly isTransaction?: boolean
}

/** The `node:sqlite` module, as far as the store uses it. */
export interface NodeSqliteModule {
  readonly DatabaseSync: new (path: string) => DatabaseSync
}

/**
 * `node:sqlite`, when the running Node has it without a flag, or `undefined`. Loaded at the first
 * call, never at import, so that a Node without it (or one that would warn) is never touched by
 * merely importing the store; Node caches the module after that.
 */
export function loadNodeSqlite(): NodeSqliteModule | undefined {
  // `process.getBuiltinModule` (Node 20.16 and 22.3 and later) returns undefined for a built-in
  // that this Node lacks or keeps behind a flag, where `import` would throw.
  return process.getBuiltinModule?.('node:sqlite') as NodeSqliteModule | undefined
}

/** Opens (creating when missing) the database at `path` with `node:sqlite`. */
export function openNodeSqlite(sqlite: NodeSqliteModule, path: string): SqliteConnection {
  return new NodeSqliteConnection(new sqlite.DatabaseSync(path))
}

class NodeSqliteConnection implements SqliteConnection {
  readonly driver = 'node:sqlite'
  readonly textKeepsNul: boolean
  readonly #db: DatabaseSync

  constructor(db: DatabaseSync) {
    this.#db = db
    // Tried rather than read off the version: fixed in 24.16 and 26.1, and maybe in 22 some day.
    const row = db.prepare("SELECT CAST(x'610062' AS TEXT) AS t").get() as
      | { t: unknown }
      | undefined
    this.textKeepsNul = row?.t === 'a\0b'
  }

  get inTransaction(): boolean {
    return this.#db.isTransaction ?? true
  }

  exec(sql: string): void {
    this.#db.exec(sql)
  }

  prepare<P extends SqliteValue[], R>(sql: string): SqliteStatement<P, R> {
    // `StatementSync` has `run`, `get` and `all` with positional parameters, as the seam says.
    return this.#db.prepare(sql) as unknown as SqliteStatement<P, R>
  }

  pragma(source: string): unknown {
    const row = this.#db.prepare(`PRAGMA ${source}`).get()
    return row === undefined ? undefined : Object.values(row)[0]
  }

  close(): void {
    try {
      this.#db.close()
    } catch (error) {
      // Closing twice throws ERR_INVALID_STATE ("database is not open"); `isOpen` came after 22.13.
      if ((error as { code?: unknown } | null)?.code !== 'ERR_INVALID_STATE') throw error
    }
  }
}

// How the SQLite store appends a batch of updates that repeat no retained one (nearly every batch):
// one query asks whether any of their ids is retained (only the ids publishers chose: the hub's
// own are fresh), then one INSERT of many rows stores them, per chunk of up to 128 rows, instead
// of a probe and an INSERT per row. Each statement crosses from JavaScript into the driver once,
// binding all its rows' values: at 32 rows a commit that took the user CPU of the store's SQL from
// 4.3–4.9 to 3.0–3.2 µs per row (issue #15).

import type { SqliteConnection, SqliteStatement, SqliteValue } from './sqlite-connection.ts'
import type { InsertParams } from './sqlite-rows.ts'

/**
 * The most rows in one statement: 128 rows bind 896 values, under the 999 host parameters of the
 * oldest SQLite builds. Chunks are powers of two, so at most 8 sizes of each statement are
 * prepared.
 */
const MAX_CHUNK = 128
const COLUMNS = 7

/** The multi-row INSERT and the id probe, prepared once per chunk size. */
export class SqliteBatchInsert {
  readonly #db: SqliteConnection
  readonly #inserts = new Map<number, SqliteStatement<SqliteValue[], never>>()
  readonly #probes = new Map<number, SqliteStatement<SqliteValue[], { found: number }>>()

  constructor(db: SqliteConnection) {
    this.#db = db
  }

  /**
   * Whether every id of `ids` is new: they are distinct, and none names a row above `floor` (the
   * count limit as it is before the batch). Then appending their rows one by one, each looking its
   * id up in the history it joins, would find nothing for any of them, since that history only
   * loses rows from below as the batch goes on. The caller leaves out the ids the hub generated
   * (`GENERATED_ID`): fresh, so new by construction; with none left, nothing is queried.
   */
  allNew(ids: readonly string[], floor: number): boolean {
    if (ids.length > 1 && new Set(ids).size !== ids.length) return false
    for (let at = 0; at < ids.length; ) {
      const size = chunkSize(ids.length - at)
      const values: SqliteValue[] = ids.slice(at, at + size)
      values.push(floor)
      if (this.#probe(size).get(...values) !== undefined) return false
      at += size
    }
    return true
  }

  /**
   * Inserts `rows` in order and returns the seq of each. Rows inserted by one statement of this
   * store, the database's only writer, take consecutive seqs (AUTOINCREMENT: one more than the
   * largest ever used, row after row), so the last one's gives the others.
   */
  insert(rows: readonly InsertParams[]): number[] {
    const seqs: number[] = new Array(rows.length)
    for (let at = 0; at < rows.length; ) {
      const size = chunkSize(rows.length - at)
      const values: SqliteValue[] = new Array(size * COLUMNS)
      for (let i = 0; i < size; i++) {
        const row = rows[at + i] as InsertParams
        for (let c = 0; c < COLUMNS; c++) values[i * COLUMNS + c] = row[c] as SqliteValue
      }
      const last = Number(this.#insert(size).run(...values).lastInsertRowid)
      for (let i = 0; i < size; i++) seqs[at + i] = last - size + 1 + i
      at += size
    }
    return seqs
  }

  #insert(size: number): SqliteStatement<SqliteValue[], never> {
    let statement = this.#inserts.get(size)
    if (statement === undefined) {
      const row = `(${new Array(COLUMNS).fill('?').join(', ')})`
      // OR FAIL, not the default ABORT: a statement that writes several rows and may abort
      // halfway keeps a statement journal, the first image of every page it changes written to
      // a temporary file. With ids that do not sort in time (a publisher's own), each row changes
      // another page of the id index, and that journal doubled the writes of a commit
      // (bench/durable-publish.bench.ts: 16-18 -> 22-25 µs per update). FAIL keeps the rows
      // written before a failure; the transaction around it is rolled back anyway.
      statement = this.#db.prepare(
        `INSERT OR FAIL INTO updates (id, topics, data, private, type, retry, time) VALUES ${new Array(size).fill(row).join(', ')}`,
      )
      this.#inserts.set(size, statement)
    }
    return statement
  }

  #probe(size: number): SqliteStatement<SqliteValue[], { found: number }> {
    let statement = this.#probes.get(size)
    if (statement === undefined) {
      // Index-only (the index holds id and seq): for new ids, one probe each that finds nothing.
      statement = this.#db.prepare(
        `SELECT 1 AS found FROM updates WHERE id IN (${new Array(size).fill('?').join(', ')}) AND seq > ? LIMIT 1`,
      )
      this.#probes.set(size, statement)
    }
    return statement
  }
}

/** The largest power of two up to {@link MAX_CHUNK} that is at most `left`. */
function chunkSize(left: number): number {
  let size = MAX_CHUNK
  while (size > left) size >>= 1
  return size
}

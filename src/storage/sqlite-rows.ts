// How the SQLite store lays an update out in a row of its `updates` table and reads it back. No
// driver here: `sqlite.ts` hands over whether its connection reads text with a NUL whole.

import type { StoredUpdate, Update } from '../hub/update.ts'
import { storedUpdate } from './stored-update.ts'

/** A row of the `updates` table, as the driver returns it. */
export interface Row {
  seq: number
  id: string
  /** The topics as a JSON array. */
  topics: string
  /** Bytes (UTF-8) only when it holds a NUL and the driver cuts text there ({@link rowColumns}). */
  data: string | Uint8Array
  /** `1` for a private update, `0` otherwise. */
  private: number
  type: string | null
  retry: number | null
  /** The commit time, in milliseconds since the epoch. */
  time: number
}

/** The parameters of the insert: id, topics, data, private, type, retry, time (set at commit). */
export type InsertParams = [string, string, string, number, string | null, number | null, number]

// node:sqlite before Node 24.16 and 26.1 (every Node 22) reads text only up to its first NUL
// (binding it is whole), so `data`, the one free-text field (ids and types refuse NUL), would lose
// its tail on the way back. On such a connection a `data` holding a NUL is selected as its bytes.

/** The columns to select for a {@link Row}: `data` as bytes when it holds a NUL and must be. */
export function rowColumns(textKeepsNul: boolean): string {
  return textKeepsNul
    ? '*'
    : "seq, id, topics, CASE WHEN instr(CAST(data AS BLOB), x'00') > 0 THEN CAST(data AS BLOB) ELSE data END AS data, private, type, retry, time"
}

const decoder = new TextDecoder()

/** The insert parameters of `update`, its time still `0`. */
export function toParams(update: Update): InsertParams {
  return [
    update.id,
    JSON.stringify(update.topics),
    update.data,
    update.private ? 1 : 0,
    update.type ?? null,
    update.retry ?? null,
    0,
  ]
}

/** The stored update in a row. */
export function fromRow(row: Row): StoredUpdate {
  const { id, type, retry } = row
  const data = textOf(row.data)
  const topics = JSON.parse(row.topics) as string[]
  const update = { id, topics, data, private: row.private === 1, type: type ?? undefined }
  return storedUpdate({ ...update, retry: retry ?? undefined }, String(row.seq), row.time)
}

function textOf(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : decoder.decode(value)
}

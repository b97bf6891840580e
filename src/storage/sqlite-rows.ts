// How the SQLite store lays an update out in a row of its `updates` table and reads it back. No
// driver here: `sqlite.ts` is the only module that knows it.

import type { StoredUpdate, Update } from '../hub/update.ts'
import { storedUpdate } from './stored-update.ts'

/** A row of the `updates` table, as the driver returns it. */
export interface Row {
  seq: number
  id: string
  /** The topics as a JSON array. */
  topics: string
  data: string
  /** `1` for a private update, `0` otherwise. */
  private: number
  type: string | null
  retry: number | null
  /** The commit time, in milliseconds since the epoch. */
  time: number
}

/** The parameters of the insert: id, topics, data, private, type, retry, time (set at commit). */
export type InsertParams = [string, string, string, number, string | null, number | null, number]

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

/** Whether a stored row holds the same update as these insert parameters (a retry). */
export function isSameRow(row: Row, params: InsertParams): boolean {
  return (
    row.data === params[2] &&
    row.topics === params[1] &&
    row.private === params[3] &&
    row.type === params[4] &&
    row.retry === params[5]
  )
}

/** The stored update in a row. */
export function fromRow(row: Row): StoredUpdate {
  const { id, data, type, retry } = row
  const topics = JSON.parse(row.topics) as string[]
  const update = { id, topics, data, private: row.private === 1, type: type ?? undefined }
  return storedUpdate({ ...update, retry: retry ?? undefined }, String(row.seq), row.time)
}

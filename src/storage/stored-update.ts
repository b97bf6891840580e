import type { StoredUpdate, Update } from '../hub/update.ts'

/**
 * An update with its cursor and commit time, copied and frozen: the history is shared by every
 * listener and subscriber and must not change under them.
 */
export function storedUpdate(update: Update, cursor: string, time: number): StoredUpdate {
  const stored: { -readonly [K in keyof StoredUpdate]: StoredUpdate[K] } = {
    id: update.id,
    topics: Object.freeze([...update.topics]),
    data: update.data,
    private: update.private,
    cursor,
    time,
  }
  if (update.type !== undefined) stored.type = update.type
  if (update.retry !== undefined) stored.retry = update.retry
  return Object.freeze(stored)
}

/**
 * How many of the retained updates with its id an append is compared with, newest first, to
 * recognise a retry (the Redis store, which keeps a digest index, compares with all of them).
 * DoS guard: a publisher reusing one id many times would otherwise make each of its appends
 * compare with every earlier one. A retry follows its first attempt within seconds, so it is
 * missed (and stored again) only when that id was reused this many times in between.
 */
export const MAX_RETRY_MATCHES = 64

/**
 * Whether two updates with the same id are the same update (a publisher's retry): same topics
 * in order, data, `private`, type and retry. An absent field equals `undefined`.
 */
export function sameUpdate(a: Update, b: Update): boolean {
  return (
    a.data === b.data &&
    a.private === b.private &&
    a.type === b.type &&
    a.retry === b.retry &&
    a.topics.length === b.topics.length &&
    a.topics.every((topic, i) => topic === b.topics[i])
  )
}

/** Reads a decimal sequence cursor (memory and SQLite stores). */
export function parseSequenceCursor(cursor: string, storeName: string): number {
  const seq = Number(cursor)
  if (!/^\d+$/.test(cursor) || !Number.isSafeInteger(seq)) {
    throw new RangeError(`${JSON.stringify(cursor)} is not a cursor of the ${storeName} store`)
  }
  return seq
}

/** Checks a positive integer option, or returns `fallback` when it is not given. */
export function checkPositiveInteger(
  name: string,
  value: number | undefined,
  fallback: number,
): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`)
  }
  return value
}

/** Checks `maxAgeMs`: a positive number of milliseconds, or `null`/absent for no age limit. */
export function checkMaxAgeMs(value: number | null | undefined): number | null {
  if (value === undefined || value === null) return null
  if (!(Number.isFinite(value) && value > 0)) {
    throw new RangeError(`maxAgeMs must be a positive number of milliseconds or null, got ${value}`)
  }
  return value
}

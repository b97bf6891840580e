// How the Redis store lays an update out in a stream entry, reads it back, and orders entry ids
// (its cursors). No driver here: `redis.ts` is the only module that knows it.

import { createHash } from 'node:crypto'
import type { StoredUpdate, Update } from '../hub/update.ts'
import { storedUpdate } from './stored-update.ts'

/** Stream entry fields: short names, since every entry repeats them. */
export const FIELD = {
  id: 'i',
  topics: 't',
  data: 'd',
  private: 'p',
  type: 'y',
  retry: 'r',
  /** {@link contentDigest}: the key of the append script's retry index. */
  digest: 'h',
} as const

/**
 * The field/value pairs of an update's stream entry: the id first, then its digest (the append
 * script reads both where they are).
 */
export function entryFields(update: Update): string[] {
  const fields: string[] = [
    FIELD.id,
    update.id,
    FIELD.digest,
    contentDigest(update),
    FIELD.topics,
    JSON.stringify(update.topics),
    FIELD.data,
    update.data,
    FIELD.private,
    update.private ? '1' : '0',
  ]
  if (update.type !== undefined) fields.push(FIELD.type, update.type)
  if (update.retry !== undefined) fields.push(FIELD.retry, String(update.retry))
  return fields
}

/**
 * A digest of everything that makes two updates the same (id, topics in order, data, `private`,
 * type, retry), so that the append script finds a retry among every retained update with its id
 * in one hash lookup. 128 bits of SHA-256, base64url: a collision would only make a retry be
 * stored again, since the script still compares the fields.
 */
export function contentDigest(update: Update): string {
  const { id, topics, type, retry } = update
  // The data is hashed as it is, not inside the JSON: escaping a large payload cost more than
  // hashing it. The JSON holds no raw LF, so the first LF ends it: two different updates never
  // give the same bytes to hash.
  return createHash('sha256')
    .update(JSON.stringify([id, topics, update.private, type ?? null, retry ?? null]))
    .update('\n')
    .update(update.data)
    .digest('base64url')
    .slice(0, 22)
}

/**
 * The update in a stream entry (`[id, [field, value, …]]` as XRANGE and XREAD reply), or
 * `undefined` when the entry is not one this store wrote. Its commit time is the entry id's
 * millisecond part: Redis's clock, never going backwards within the stream.
 */
export function entryUpdate(entry: unknown): StoredUpdate | undefined {
  if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) {
    return undefined
  }
  const cursor = entry[0]
  const pairs = entry[1] as unknown[]
  const fields = new Map<unknown, unknown>()
  for (let i = 0; i + 1 < pairs.length; i += 2) fields.set(pairs[i], pairs[i + 1])
  const id = fields.get(FIELD.id)
  const data = fields.get(FIELD.data)
  const topicsJson = fields.get(FIELD.topics)
  if (typeof id !== 'string' || typeof data !== 'string' || typeof topicsJson !== 'string') {
    return undefined
  }
  let topics: unknown
  try {
    topics = JSON.parse(topicsJson)
  } catch {
    return undefined
  }
  if (!Array.isArray(topics) || !topics.every((topic) => typeof topic === 'string')) {
    return undefined
  }
  const type = fields.get(FIELD.type)
  const retry = fields.get(FIELD.retry)
  return storedUpdate(
    {
      id,
      topics,
      data,
      private: fields.get(FIELD.private) === '1',
      type: typeof type === 'string' ? type : undefined,
      retry: typeof retry === 'string' ? Number(retry) : undefined,
    },
    cursor,
    entryTime(cursor),
  )
}

/** The millisecond part of a stream entry id. */
export function entryTime(cursor: string): number {
  return Number(cursor.slice(0, cursor.indexOf('-')))
}

/** Reads a stream entry id (`<ms>-<seq>`), throwing a `RangeError` for anything else. */
function parseEntryId(cursor: string): readonly [bigint, bigint] {
  const match = /^(\d{1,20})-(\d{1,20})$/.exec(cursor)
  if (match === null) {
    throw new RangeError(`${JSON.stringify(cursor)} is not a cursor of the Redis store`)
  }
  return [BigInt(match[1] as string), BigInt(match[2] as string)]
}

/**
 * Orders two stream entry ids as Redis writes them (digits without leading zeros): by length,
 * then by text, with no number parsing on this hot path.
 */
export function compareEntryIds(a: string, b: string): number {
  const aDash = a.indexOf('-')
  const bDash = b.indexOf('-')
  const ms = compareDigits(a.slice(0, aDash), b.slice(0, bDash))
  return ms !== 0 ? ms : compareDigits(a.slice(aDash + 1), b.slice(bDash + 1))
}

/** The canonical form of a stream entry id given by a caller (`0042-07` → `42-7`). */
export function canonicalEntryId(cursor: string): string {
  const [ms, seq] = parseEntryId(cursor)
  return `${ms}-${seq}`
}

function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length < b.length ? -1 : 1
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * Where a stream stands, from its XINFO STREAM reply (RESP2: a flat field/value list): the last
 * entry id it generated, the update id of its newest entry (`null` when it is empty or that entry
 * is not one this store wrote), and the newest entry id it deleted (trimmed). `null` for none.
 * One reply, so they agree.
 */
export function streamHead(info: unknown): {
  cursor: string | null
  id: string | null
  deleted: string | null
} {
  const reply: unknown[] = Array.isArray(info) ? info : []
  const field = (name: string): unknown => {
    const at = reply.indexOf(name)
    return at === -1 ? undefined : reply[at + 1]
  }
  const entryId = (value: unknown): string | null =>
    typeof value === 'string' && value !== '0-0' ? value : null
  return {
    cursor: entryId(field('last-generated-id')),
    id: entryUpdate(field('last-entry'))?.id ?? null,
    deleted: entryId(field('max-deleted-entry-id')),
  }
}

/** The entries of an XREAD reply (RESP2: `[[key, entries]]`, or null when it timed out). */
export function streamEntries(reply: unknown): unknown[] {
  if (!Array.isArray(reply)) return []
  const stream = reply[0] as unknown
  return Array.isArray(stream) && Array.isArray(stream[1]) ? stream[1] : []
}

/** The updates in an XRANGE reply, in order, skipping entries this store did not write. */
export function decodeEntries(reply: unknown): StoredUpdate[] {
  if (!Array.isArray(reply)) return []
  const updates: StoredUpdate[] = []
  for (const entry of reply) {
    const update = entryUpdate(entry)
    if (update !== undefined) updates.push(update)
  }
  return updates
}

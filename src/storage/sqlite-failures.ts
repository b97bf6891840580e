// What went wrong in SQLite, in words an operator can act on and without any of the data, from
// either driver's errors: better-sqlite3 names the result code (`code: 'SQLITE_FULL'`),
// node:sqlite numbers it (`code: 'ERR_SQLITE_ERROR'`, `errcode: 13`).

/** Plain words for the failures an operator can act on, by primary result code. */
const FAILURES: Readonly<Record<string, string>> = {
  SQLITE_FULL: 'the disk or the database is full',
  SQLITE_BUSY: 'another connection held the database lock past the busy timeout',
  SQLITE_READONLY: 'the database is read-only',
  SQLITE_IOERR: 'an I/O error',
  SQLITE_CORRUPT: 'the database file is corrupt',
}

/** The names of the primary result codes in {@link FAILURES}, by number (sqlite3.h). */
const PRIMARY_CODES: ReadonlyMap<number, string> = new Map([
  [5, 'SQLITE_BUSY'],
  [8, 'SQLITE_READONLY'],
  [10, 'SQLITE_IOERR'],
  [11, 'SQLITE_CORRUPT'],
  [13, 'SQLITE_FULL'],
])

/** What went wrong, without any of the data: the SQLite result code when there is one. */
export function describeSqliteError(error: unknown): string {
  const { code, errcode, errstr } = (error ?? {}) as {
    code?: unknown
    errcode?: unknown
    errstr?: unknown
  }
  if (typeof errcode === 'number') {
    // node:sqlite: an extended code (SQLITE_IOERR_FSYNC, 1034) keeps its primary in the low byte.
    const name = PRIMARY_CODES.get(errcode & 0xff)
    if (name !== undefined) return `${FAILURES[name]} (${name})`
    // errstr is SQLite's fixed text for the code ("SQL logic error"), never a value.
    return `${typeof errstr === 'string' ? errstr : 'SQLite error'} (SQLite result code ${errcode})`
  }
  if (typeof code === 'string' && code.startsWith('SQLITE_')) {
    // Extended codes (SQLITE_IOERR_FSYNC) share their primary code's words.
    const words = FAILURES[code.split('_', 2).join('_')]
    return words === undefined ? code : `${words} (${code})`
  }
  // The drivers' own errors ("The database connection is not open", "statement has been
  // finalized") carry no data.
  return error instanceof Error ? error.message : 'unknown error'
}

// Which driver the SQLite store runs on, and opening its file with it. `'auto'` takes Node's
// built-in `node:sqlite` when the running Node has it (22.13 and later): nothing to install or
// compile, and it cannot be built for another Node than the one running it. Else
// `better-sqlite3`, when it is installed and loads. docs/benchmarks.md ("SQLite drivers") has
// the durable-publish figures of both, and why this is the default.

import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { StoreUnavailableError } from '../hub/event-store.ts'
import { MissingDriverError } from './load-driver.ts'
import { type BetterSqlite3, loadBetterSqlite3, openBetterSqlite3 } from './sqlite-better-driver.ts'
import type { SqliteConnection, SqliteDriverChoice } from './sqlite-connection.ts'
import { describeSqliteError } from './sqlite-failures.ts'
import { loadNodeSqlite, type NodeSqliteModule, openNodeSqlite } from './sqlite-node-driver.ts'

/** Every value of {@link SqliteDriverChoice}. */
const SQLITE_DRIVER_CHOICES: readonly SqliteDriverChoice[] = [
  'auto',
  'node:sqlite',
  'better-sqlite3',
]

const USED_BY = 'ssehub/storage/sqlite'

/**
 * Opens (creating it and its directory when missing) the database at `path` on the driver
 * `choice` picks; `':memory:'` keeps it in this process.
 *
 * @throws {RangeError} for a `choice` that names no driver.
 * @throws {MissingDriverError} when the driver asked for (or, for `'auto'`, either) is not there
 *   or cannot load; its message says what to install, rebuild or upgrade.
 * @throws {StoreUnavailableError} when the driver loaded but the file cannot be opened.
 */
export function openSqliteConnection(path: string, choice: SqliteDriverChoice): SqliteConnection {
  if (!SQLITE_DRIVER_CHOICES.includes(choice)) {
    throw new RangeError(
      `driver must be ${SQLITE_DRIVER_CHOICES.map((name) => `'${name}'`).join(', ')}; got ${String(choice)}`,
    )
  }
  const nodeSqlite = choice === 'better-sqlite3' ? undefined : loadNodeSqlite()
  if (nodeSqlite === undefined && choice === 'node:sqlite') {
    throw new MissingDriverError('node:sqlite', USED_BY, {
      message:
        `${USED_BY} was asked for the "node:sqlite" driver, which Node ${process.version} does ` +
        'not have: it is built into Node 22.13 and later. Use Node 22.13 or later, or the ' +
        '"better-sqlite3" driver ("npm install better-sqlite3").',
    })
  }
  const Driver = nodeSqlite === undefined ? loadBetter(choice) : undefined
  try {
    if (path !== ':memory:' && path !== '') mkdirSync(dirname(path), { recursive: true })
    return Driver === undefined
      ? openNodeSqlite(nodeSqlite as NodeSqliteModule, path)
      : openBetterSqlite3(Driver, path)
  } catch (error) {
    // better-sqlite3 loads its native module when the first database is opened, not at require.
    if ((error as { code?: unknown } | null)?.code === 'ERR_DLOPEN_FAILED') {
      throw cannotLoad(error)
    }
    throw new StoreUnavailableError(
      `could not open the SQLite database: ${describeSqliteError(error)}`,
      { cause: error },
    )
  }
}

/** `better-sqlite3`, for a Node without `node:sqlite` or a user who asked for it. */
function loadBetter(choice: SqliteDriverChoice): BetterSqlite3 {
  try {
    return loadBetterSqlite3(USED_BY)
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === 'ERR_DLOPEN_FAILED') throw cannotLoad(error)
    if (!(error instanceof MissingDriverError)) throw error
    const message =
      choice === 'auto' || loadNodeSqlite() === undefined
        ? `${USED_BY} needs Node's built-in "node:sqlite", which Node ${process.version} does not ` +
          'have, or the "better-sqlite3" package, which is not installed: use Node 22.13 or ' +
          'later, or run "npm install better-sqlite3" in the project that uses ssehub.'
        : `${USED_BY} was asked for the "better-sqlite3" driver, which is not installed: run ` +
          '"npm install better-sqlite3" in the project that uses ssehub, or leave out the ' +
          'driver option to use "node:sqlite", built into this Node.'
    throw new MissingDriverError('better-sqlite3', USED_BY, { message, cause: error })
  }
}

/** better-sqlite3 is installed, but its native module was built for another Node or platform. */
function cannotLoad(error: unknown): MissingDriverError {
  const instead =
    loadNodeSqlite() === undefined
      ? 'use Node 22.13 or later, whose built-in "node:sqlite" needs no package'
      : 'leave out the driver option to use "node:sqlite", built into this Node'
  return new MissingDriverError('better-sqlite3', USED_BY, {
    message:
      `${USED_BY} could not load the "better-sqlite3" package (ERR_DLOPEN_FAILED): its native ` +
      `module was built for another Node or platform than this Node ${process.version} ` +
      `(ABI ${process.versions.modules}). Run "npm rebuild better-sqlite3" with this Node, or ${instead}.`,
    cause: error,
  })
}

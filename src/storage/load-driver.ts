import { createRequire } from 'node:module'
import { isPackageNotInstalled } from '../hub/optional-package.ts'

// The SQLite and Redis drivers are optional peer dependencies: someone who only wants the client
// or the memory store installs neither. They are loaded when a store is created, not when its
// entry point is imported, so a missing one is a message naming the package to install, thrown
// by `createSqliteStore` or `createRedisStore`, rather than a resolution error at import time.
// Both drivers are CommonJS: `require` loads them synchronously (no top-level await, so
// CommonJS code can still `require()` the entry points).

const require = createRequire(import.meta.url)

/** Options of {@link MissingDriverError}, beyond the standard `cause`. */
export interface MissingDriverErrorOptions extends ErrorOptions {
  /**
   * The whole message, when the default one ("needs the package, which is not installed: run
   * npm install") is not the fix: a driver that is installed but cannot load, or one that comes
   * with Node. Defaults to that message.
   */
  message?: string
}

/**
 * Error thrown when a store has no driver it can load: its message says what to install (or
 * rebuild, or which Node to use).
 */
export class MissingDriverError extends Error {
  readonly code = 'missing-driver'
  /**
   * The driver that is missing: a package to install, such as `'better-sqlite3'` or `'redis'`,
   * or `'node:sqlite'`, which comes with Node 22.13 and later.
   */
  readonly driver: string

  constructor(driver: string, usedBy: string, options?: MissingDriverErrorOptions) {
    super(
      options?.message ??
        `${usedBy} needs the "${driver}" package, which is not installed: run "npm install ${driver}" in the project that uses ssehub.`,
      options,
    )
    this.name = 'MissingDriverError'
    this.driver = driver
  }
}

/**
 * Loads the driver package `name` for `usedBy` (the entry point, for the message). Node caches
 * it after the first call.
 *
 * @throws {MissingDriverError} when the package is not installed. Any other failure (a native
 *   module built for another Node, a broken install) is rethrown as it is.
 */
export function loadDriver<T>(name: string, usedBy: string): T {
  try {
    return require(name) as T
  } catch (error) {
    // Only the package itself missing, not a module it requires in turn.
    if (isPackageNotInstalled(error, name)) {
      throw new MissingDriverError(name, usedBy, { cause: error })
    }
    throw error
  }
}

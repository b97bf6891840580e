// A feature's package (jose for tokens) is an optional dependency: `npm install ssehub
// --omit=optional` leaves a project that uses only the wire format, the client or the hub with no
// package at all. Such a package is loaded when the feature is set up, not when an entry point is
// imported, so a missing one is a message naming what to install rather than a resolution error.
// The caller passes the `require` call itself, with the package's name written out: bundlers
// (webpack, Turbopack) see a literal `require('jose')` and bundle it, which they cannot do for a
// name held in a variable.

/** Error thrown when a package ssehub needs for a feature is not installed. */
export class MissingPackageError extends Error {
  readonly code = 'missing-package'
  /** The package to install, such as `'jose'`. */
  readonly packageName: string

  /**
   * @param packageName The package to install.
   * @param usedBy What needs it, as the message's subject: `'createMercureHandler'`, `'mintToken'`.
   */
  constructor(packageName: string, usedBy: string, options?: ErrorOptions) {
    super(
      `${usedBy} needs the "${packageName}" package, which is not installed: run "npm install ${packageName}" in the project that uses ssehub.`,
      options,
    )
    this.name = 'MissingPackageError'
    this.packageName = packageName
  }

  /**
   * The error to throw when `require(packageName)` (or `require.resolve`) failed with `error`: a
   * `MissingPackageError` when the package itself is not installed, or `null` for any other
   * failure (a module the package requires in turn, a native module built for another Node, a
   * broken install), which the caller rethrows as it is.
   */
  static fromRequireError(
    error: unknown,
    packageName: string,
    usedBy: string,
  ): MissingPackageError | null {
    return isPackageNotInstalled(error, packageName)
      ? new MissingPackageError(packageName, usedBy, { cause: error })
      : null
  }
}

/**
 * Loads the package `name` for `usedBy` by calling `load` (a `require` of it).
 *
 * @throws {MissingPackageError} when the package is not installed. Any other failure (a module
 *   the package requires in turn, a broken install) is rethrown as it is.
 */
export function loadOptionalPackage<T>(name: string, usedBy: string, load: () => T): T {
  try {
    return load()
  } catch (error) {
    throw MissingPackageError.fromRequireError(error, name, usedBy) ?? error
  }
}

/**
 * Whether `error`, thrown by `require(name)` or `require.resolve(name)`, says that the package
 * `name` itself is not installed. Node, Bun and Deno all say `MODULE_NOT_FOUND`, "Cannot find
 * module '<name>'…", when `require` misses.
 */
export function isPackageNotInstalled(error: unknown, name: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  // Only the package itself missing, not a module it requires in turn.
  return (
    code === 'MODULE_NOT_FOUND' &&
    typeof message === 'string' &&
    message.startsWith(`Cannot find module '${name}'`)
  )
}

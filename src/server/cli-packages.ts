import { createRequire } from 'node:module'
import type * as Pino from 'pino'
import type * as PromClient from 'prom-client'
import { MissingPackageError } from '../node/index.ts'

// The packages only the `ssehub` command uses: pino for its logs (pino-pretty for people), and
// prom-client for `/metrics`. They are optional dependencies: installed with ssehub by default,
// left out by `npm install --omit=optional` for a project that only embeds the library. They are
// loaded when the server is set up, not when a module is imported, so a missing one is a message
// saying what to install (printed by the CLI, exit code 2) rather than a resolution error. Each
// `require` names its package literally, for bundlers.

const require = createRequire(import.meta.url)

/** The subject of the messages: what needs the package. */
const USED_BY = 'The ssehub command'

function load<T>(name: string, usedBy: string, loader: () => T): T {
  try {
    return loader()
  } catch (error) {
    throw MissingPackageError.fromRequireError(error, name, usedBy) ?? error
  }
}

/** pino, loaded on first use. @throws {MissingPackageError} when it is not installed. */
export function loadPino(): typeof Pino {
  return load('pino', USED_BY, () => require('pino') as typeof Pino)
}

/**
 * Where pino-pretty is, for pino's `transport.target` (pino loads it in a worker thread; a path
 * checked here fails now with a clear message, not later in that worker).
 *
 * @throws {MissingPackageError} when it is not installed.
 */
export function resolvePinoPretty(): string {
  return load('pino-pretty', `${USED_BY} (--log-format pretty)`, () =>
    require.resolve('pino-pretty'),
  )
}

/** prom-client, loaded on first use. @throws {MissingPackageError} when it is not installed. */
export function loadPromClient(): typeof PromClient {
  return load(
    'prom-client',
    `${USED_BY} (/metrics)`,
    () => require('prom-client') as typeof PromClient,
  )
}

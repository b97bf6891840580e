import { createRequire } from 'node:module'
import type * as Jose from 'jose'
import { loadOptionalPackage } from './optional-package.ts'

// The only file that loads jose. It is an optional dependency (installed by default, left out by
// `--omit=optional`), so it is loaded when a verifier or a signing key is made, never when an
// entry point is imported: `ssehub/node` and `ssehub/web` import without it, and their factories
// say to install it. `require` keeps that check synchronous, so a factory throws at once rather
// than on the first request; jose 6 is an ES module, which `require` loads on every Node that
// `engines` allows (20.19, 22.12 and later), on Bun and on Deno. The other files name jose in
// types only (`import type`), which leave no trace in the JavaScript. Under tsx (the tests,
// `npm start`) `require` gets a copy of jose apart from the one `import` gets, so jose's errors
// are told apart with this module's `errors` only, never with classes imported elsewhere.

const require = createRequire(import.meta.url)

/** The jose module, as `import * as jose from 'jose'` would give it. */
export type JoseModule = typeof Jose

let jose: JoseModule | undefined

/** The subject of the message when token verification finds jose missing. */
export const VERIFYING_TOKENS = "ssehub's token verification"

/** The subject of the message when signing a token (`mintToken`) finds jose missing. */
export const SIGNING_TOKENS = "ssehub's token signing (mintToken)"

/**
 * Loads jose (once; later calls return the same module).
 *
 * @param usedBy What needs it, for the message, such as `'createMercureHandler'`.
 * @throws {MissingPackageError} when jose is not installed.
 */
export function loadJose(usedBy: string): JoseModule {
  jose ??= loadOptionalPackage('jose', usedBy, () => require('jose') as JoseModule)
  return jose
}

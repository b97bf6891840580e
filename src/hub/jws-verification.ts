/**
 * The steps every token verifier takes with a compact JWS, whatever its claims mean: the header
 * checks that come before any key is touched, the signature and time checks through jose, and
 * jose's errors turned into `AuthError`s that say what failed. Used by the Mercure 0.x verifier
 * (`jwt-verifier.ts`) and the 1.0 access-token verifier (`access-token-verifier.ts`).
 *
 * @module
 */

import type { JWTPayload, ProtectedHeaderParameters } from 'jose'
import { AuthError, quote } from './auth-error.ts'
import type { JoseModule } from './jose.ts'
import { JwksUnavailableError, type VerificationKey } from './jwt-keys.ts'

/** Longest token we even try to decode (DoS guard: decoding and JSON parsing cost is linear). */
const MAX_TOKEN_LENGTH = 64 * 1024

/** A protected header whose `alg` was found to be a signing algorithm (not `none`). */
export interface SignedHeader extends ProtectedHeaderParameters {
  readonly alg: string
}

/**
 * Checks a verifier's settings that do not depend on the key: `none` is never in an allow-list
 * and the clock tolerance is a non-negative number.
 *
 * @returns The clock tolerance in seconds: `clockToleranceSec`, or `0` when unset.
 * @throws {Error} synchronously, with a message that says how to fix the setting.
 */
export function checkVerifierSettings(
  algorithms: readonly string[] | undefined,
  clockToleranceSec: number | undefined,
): number {
  if (algorithms?.some((alg) => alg.toLowerCase() === 'none')) {
    throw new Error(
      'The algorithm "none" can never be allowed: it marks an unsigned token, which anyone can forge. Remove it from the allowed algorithms.',
    )
  }
  const tolerance = clockToleranceSec ?? 0
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new Error(`clockToleranceSec must be a non-negative number of seconds, got ${tolerance}.`)
  }
  return tolerance
}

/**
 * Verifies a compact JWS: its header's shape and `alg` (never `none`, and in the key's allow-list),
 * then its signature with the key `keyFor` picks, and `exp` and `nbf` when present.
 *
 * @param keyFor Picks the key from the header (and the token); it may throw an `AuthError` to
 *   refuse the token first, e.g. for its `typ` or an unknown issuer.
 * @returns The token's claims.
 * @throws {AuthError} `invalid-token` for a token problem, with a message that says which.
 * @throws {JwksUnavailableError} when a JWKS URL cannot be fetched.
 */
export async function verifyJws(
  jose: JoseModule,
  token: string,
  clockTolerance: number,
  keyFor: (header: SignedHeader) => VerificationKey,
): Promise<JWTPayload> {
  const header = readSignedHeader(jose, token)
  const key = keyFor(header)
  checkAlgorithm(header.alg, key.algorithms)
  try {
    return await verifyWithKey(jose, token, key, [...key.algorithms], clockTolerance)
  } catch (error) {
    throw toAuthError(jose, error)
  }
}

/**
 * Reads a token's protected header, rejecting what can be told from its shape alone with a precise
 * message (jose would say only "alg not allowed"): an empty or oversized token, not three parts,
 * a header that is not JSON, no `alg`, or `alg` `none`.
 *
 * @throws {AuthError} `invalid-token`.
 */
function readSignedHeader({ decodeProtectedHeader }: JoseModule, token: string): SignedHeader {
  if (typeof token !== 'string' || token === '') throw invalid('The token is empty.')
  if (token.length > MAX_TOKEN_LENGTH) {
    throw invalid(`The token is longer than ${MAX_TOKEN_LENGTH} characters.`)
  }
  if (token.split('.').length !== 3) {
    throw invalid('The token is not a compact JWS (three base64url parts separated by dots).')
  }
  let header: ProtectedHeaderParameters
  try {
    header = decodeProtectedHeader(token)
  } catch {
    throw invalid("The token's header is not base64url-encoded JSON.")
  }
  const alg: unknown = header.alg
  if (typeof alg !== 'string' || alg === '') throw invalid('The token\'s header has no "alg".')
  // The alg-none attack: an unsigned token needs no key at all, so anyone could forge one.
  if (alg.toLowerCase() === 'none') {
    throw invalid('The token is unsigned (alg "none"), which is never accepted.')
  }
  return { ...header, alg }
}

/**
 * Checks a header's `alg` against the allow-list, before jose sees the token.
 *
 * @throws {AuthError} `invalid-token` naming the algorithm and the allowed ones.
 */
function checkAlgorithm(alg: string, algorithms: readonly string[]): void {
  if (!algorithms.includes(alg)) {
    // Also the algorithm-confusion guard: an HS256 token against a public key ends here.
    throw invalid(
      `The token is signed with ${quote(alg, 20).slice(1, -1)}, which is not allowed (allowed: ${algorithms.join(', ')}).`,
    )
  }
}

async function verifyWithKey(
  { errors, jwtVerify }: JoseModule,
  token: string,
  key: VerificationKey,
  algorithms: string[],
  clockTolerance: number,
): Promise<JWTPayload> {
  const options = { algorithms, clockTolerance }
  try {
    return (await jwtVerify(token, key.getKey, options)).payload
  } catch (error) {
    // As jose's docs advise: when several JWKS keys match the header, try each in turn (key
    // rotation often publishes two keys without a `kid`).
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error
    for await (const candidate of error) {
      try {
        return (await jwtVerify(token, candidate, options)).payload
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner
      }
    }
    throw new errors.JWSSignatureVerificationFailed()
  }
}

function toAuthError({ errors }: JoseModule, error: unknown): Error {
  if (error instanceof JwksUnavailableError || AuthError.is(error)) return error
  const cause = { cause: error }
  if (error instanceof errors.JWTExpired) {
    return invalid(`The token expired at ${isoTime(error.payload.exp)}.`, cause)
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf' && error.reason === 'check_failed') {
      return invalid(`The token is not valid before ${isoTime(error.payload.nbf)}.`, cause)
    }
    return invalid(`The token's "${error.claim}" claim is invalid (${error.reason}).`, cause)
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return invalid("The token's signature does not match the configured key.", cause)
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return invalid('No key of the key set matches the token\'s "kid" and "alg".', cause)
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return invalid("The token's algorithm is not allowed.", cause)
  }
  if (error instanceof errors.JOSEError) {
    // jose's messages are fixed strings about the structure (never the token's bytes).
    return invalid(`The token is not a valid JWT: ${error.message.slice(0, 200)}`, cause)
  }
  if (error instanceof TypeError) {
    // jose's key-type checks, e.g. a JWKS key whose "use" is "enc".
    return invalid("The token's algorithm does not fit the configured key.", cause)
  }
  return error instanceof Error ? error : new Error(String(error))
}

/** A time claim for a message: an ISO date, or the raw value when it is out of Date's range. */
export function isoTime(seconds: unknown): string {
  // Date's range is ±8.64e15 ms; toISOString() throws beyond it, and the value is the client's.
  return typeof seconds === 'number' && Math.abs(seconds) <= 8.64e12
    ? new Date(seconds * 1000).toISOString()
    : `${String(seconds).slice(0, 30)} (seconds since the epoch)`
}

/** A 401 `invalid_token` refusal. */
export function invalid(message: string, options?: ErrorOptions): AuthError {
  return new AuthError('invalid-token', message, options)
}

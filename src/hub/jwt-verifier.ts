import type { JWTPayload } from 'jose'
import { AuthError, quote } from './auth-error.ts'
import { type JoseModule, loadJose, VERIFYING_TOKENS } from './jose.ts'
import { JwksUnavailableError, loadKey, type VerificationKey } from './jwt-keys.ts'

/** What a verified token grants, read from its `mercure` claim (Mercure draft-07 §Authorization). */
export interface MercureClaims {
  /** `mercure.publish`: topic selectors the bearer may publish to; `undefined` when absent. */
  publish: string[] | undefined
  /** `mercure.subscribe`: selectors of the private updates the bearer may receive. */
  subscribe: string[] | undefined
  /** `mercure.payload`: arbitrary JSON attached to the bearer's subscriptions. */
  payload: unknown
  /** The token's `exp`, in seconds since the epoch; the hub closes subscriptions then. */
  exp: number | undefined
  /**
   * Which protocol's token it is: `'0.x'` (Mercure draft-07, its `mercure` claim) or `'1.0'` (an
   * RFC 9068 access token, its grants in `authorization_details`). `undefined` means `'0.x'`.
   */
  protocol?: '0.x' | '1.0' | undefined
  /**
   * Mercure 1.0 only: each `subscribe` detail's selectors and `payload` (`undefined` when it has
   * none), in the token's order. A subscription's payload is that of the first detail whose
   * selectors match the subscription's own matcher value taken as a topic (`*` matches every one):
   * [spec] draft-08 §Payloads. `payload` above is then `undefined`.
   */
  subscribePayloads?: readonly SubscribePayload[] | undefined
}

/** A Mercure 1.0 `subscribe` detail's grants and payload: see `MercureClaims.subscribePayloads`. */
export interface SubscribePayload {
  readonly selectors: readonly string[]
  readonly payload: unknown
}

/** Options of {@link createJwtVerifier}. */
export interface JwtVerifierOptions {
  /**
   * The key setting: a shared secret, a PEM public key, certificate or private key, a JWKS URL,
   * or a JWKS file (see `loadKey`). Required.
   */
  key: string
  /**
   * The explicit algorithm allow-list. `none` is refused whatever is configured. Defaults to
   * `['HS256']` for a secret, and for a PEM key or JWKS to every algorithm its key type supports
   * (`RS*` and `PS*`, the curve's `ES*`, or `EdDSA`/`Ed25519`).
   */
  algorithms?: readonly string[] | undefined
  /** Leeway for `exp` and `nbf`, in seconds, to absorb clock skew. Defaults to `0`. */
  clockToleranceSec?: number | undefined
  /** The setting's name for configuration error messages. Defaults to `'The JWT key'`. */
  keyName?: string | undefined
  /** How long to wait for a JWKS URL, in milliseconds. Defaults to `5000`. */
  jwksTimeoutMs?: number | undefined
  /** Minimum time between JWKS refetches for unknown `kid`s, in milliseconds. Defaults to `30000`. */
  jwksCooldownMs?: number | undefined
}

/** Verifies Mercure tokens (see {@link createJwtVerifier}). */
export interface JwtVerifier {
  /**
   * Verifies a compact JWS and reads its `mercure` claim.
   *
   * @throws {AuthError} 401 `invalid-token` for any token problem, with a message that says which.
   * @throws {JwksUnavailableError} when a JWKS URL cannot be fetched: the hub's fault, not the token's.
   */
  verify(token: string): Promise<MercureClaims>
  /** The algorithms tokens may be signed with. */
  readonly algorithms: readonly string[]
  /** A description of the key, safe to log. */
  readonly keyDescription: string
}

/** Most selectors a claim may list, as the reference hub (DoS guard: each is matched per update). */
export const MAX_CLAIM_SELECTORS = 1000

/** Longest token we even try to decode (DoS guard: decoding and JSON parsing cost is linear). */
const MAX_TOKEN_LENGTH = 64 * 1024

/** The namespaced claim the reference hub accepts when `mercure` is absent. */
const NAMESPACED_CLAIM = 'https://mercure.rocks/'

/** The claims this module reads. */
interface MercurePayload extends JWTPayload {
  mercure?: unknown
  [NAMESPACED_CLAIM]?: unknown
}

/** The members of the `mercure` claim. */
interface MercureGrants {
  publish?: unknown
  subscribe?: unknown
  payload?: unknown
}

/**
 * Creates a verifier for Mercure JWS tokens. jose checks the signature, the algorithm against the
 * allow-list, `exp` and `nbf`; this adds the `mercure` claim's shape and readable errors.
 *
 * @throws {Error} synchronously for a configuration mistake (bad key, `none` or an algorithm that
 *   does not fit the key), with a message that says how to fix it.
 * @throws {MissingPackageError} synchronously when jose is not installed.
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const jose = loadJose(VERIFYING_TOKENS)
  if (options.algorithms?.some((alg) => alg.toLowerCase() === 'none')) {
    throw new Error(
      'The algorithm "none" can never be allowed: it marks an unsigned token, which anyone can forge. Remove it from the allowed algorithms.',
    )
  }
  const tolerance = options.clockToleranceSec ?? 0
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new Error(`clockToleranceSec must be a non-negative number of seconds, got ${tolerance}.`)
  }
  const key = loadKey(options.key, {
    name: options.keyName,
    algorithms: options.algorithms,
    jwksTimeoutMs: options.jwksTimeoutMs,
    jwksCooldownMs: options.jwksCooldownMs,
  })
  const algorithms = [...key.algorithms]
  const verified = new Map<
    string,
    { claims: MercureClaims; exp: number | undefined; nbf: number | undefined; until: number }
  >()

  return {
    algorithms,
    keyDescription: key.description,
    async verify(token) {
      // A token verified before is the same bytes with the same signature: only its time claims
      // need checking again. Kept at most a minute, so a key removed from a JWKS stops being
      // honoured soon; at most 1000 tokens of at most 4 KiB, the oldest out first.
      const known = verified.get(token)
      const now = Date.now() / 1000
      if (
        known !== undefined &&
        now < known.until &&
        (known.exp === undefined || now < known.exp + tolerance) &&
        (known.nbf === undefined || now >= known.nbf - tolerance)
      ) {
        return known.claims
      }
      checkHeader(jose, token, algorithms)
      let payload: JWTPayload
      try {
        payload = await verifyWithKey(jose, token, key, algorithms, tolerance)
      } catch (error) {
        throw toAuthError(jose, error)
      }
      const claims = readClaims(payload)
      // Only ordinary-sized tokens: a thousand of the largest accepted would hold 64 MiB.
      if (token.length <= 4096) {
        verified.set(token, { claims, exp: payload.exp, nbf: payload.nbf, until: now + 60 })
        if (verified.size > 1000) verified.delete(verified.keys().next().value as string)
      }
      return claims
    },
  }
}

/**
 * Rejects what we can tell from the header alone, with a precise message: jose would say only
 * "alg not allowed".
 */
function checkHeader(
  { decodeProtectedHeader }: JoseModule,
  token: string,
  algorithms: readonly string[],
): void {
  if (typeof token !== 'string' || token === '') throw invalid('The token is empty.')
  if (token.length > MAX_TOKEN_LENGTH) {
    throw invalid(`The token is longer than ${MAX_TOKEN_LENGTH} characters.`)
  }
  if (token.split('.').length !== 3) {
    throw invalid('The token is not a compact JWS (three base64url parts separated by dots).')
  }
  let alg: unknown
  try {
    alg = decodeProtectedHeader(token).alg
  } catch {
    throw invalid("The token's header is not base64url-encoded JSON.")
  }
  if (typeof alg !== 'string' || alg === '') throw invalid('The token\'s header has no "alg".')
  // The alg-none attack: an unsigned token needs no key at all, so anyone could forge one.
  if (alg.toLowerCase() === 'none') {
    throw invalid('The token is unsigned (alg "none"), which is never accepted.')
  }
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

/** Reads and validates the `mercure` claim, or the reference hub's namespaced fallback. */
function readClaims(payload: MercurePayload): MercureClaims {
  const exp = typeof payload.exp === 'number' ? payload.exp : undefined
  const name = payload.mercure !== undefined ? 'mercure' : NAMESPACED_CLAIM
  const claim = payload[name]
  if (claim === undefined || claim === null) {
    return { publish: undefined, subscribe: undefined, payload: undefined, exp }
  }
  if (typeof claim !== 'object' || Array.isArray(claim)) {
    throw invalid(`The token's ${quote(name)} claim must be a JSON object.`)
  }
  const grants = claim as MercureGrants
  return {
    publish: selectors(name, 'publish', grants.publish),
    subscribe: selectors(name, 'subscribe', grants.subscribe),
    payload: grants.payload,
    exp,
  }
}

function selectors(claim: string, key: string, value: unknown): string[] | undefined {
  const label = claim === 'mercure' ? `mercure.${key}` : `${quote(claim)}.${key}`
  // null grants nothing, like a missing member: least privilege, and what Go's decoder does.
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) {
    throw invalid(`The token's ${label} claim must be an array of topic selectors.`)
  }
  if (value.length > MAX_CLAIM_SELECTORS) {
    throw invalid(`The token's ${label} claim lists more than ${MAX_CLAIM_SELECTORS} selectors.`)
  }
  const index = value.findIndex((selector) => typeof selector !== 'string')
  if (index !== -1) {
    throw invalid(`The token's ${label} claim must hold strings only (entry ${index} is not).`)
  }
  return [...(value as string[])]
}

function isoTime(seconds: unknown): string {
  // Date's range is ±8.64e15 ms; toISOString() throws beyond it, and the value is the client's.
  return typeof seconds === 'number' && Math.abs(seconds) <= 8.64e12
    ? new Date(seconds * 1000).toISOString()
    : `${String(seconds).slice(0, 30)} (seconds since the epoch)`
}

function invalid(message: string, options?: ErrorOptions): AuthError {
  return new AuthError('invalid-token', message, options)
}

import type { JWTPayload } from 'jose'
import { quote } from './auth-error.ts'
import { loadJose, VERIFYING_TOKENS } from './jose.ts'
import { checkVerifierSettings, invalid, verifyJws } from './jws-verification.ts'
import { loadKey } from './jwt-keys.ts'
import type { SubscribePayload } from './subscriber.ts'
import { VerifiedTokens } from './verified-tokens.ts'

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

export type { SubscribePayload }

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
  /**
   * The claims of `token` if {@link verify} accepted it less than a minute ago and it is still in
   * its time window (see `VerifiedTokens`), else `undefined`: the cache of `verify`, read without
   * a promise. Optional: a verifier without it is always asked through `verify`.
   */
  cached?(token: string): MercureClaims | undefined
  /** The algorithms tokens may be signed with. */
  readonly algorithms: readonly string[]
  /** A description of the key, safe to log. */
  readonly keyDescription: string
}

/** Most selectors a claim may list, as the reference hub (DoS guard: each is matched per update). */
export const MAX_CLAIM_SELECTORS = 1000

/** C0, DEL and C1: in no IRI (RFC 3987 §2.2), and the marks of 1.0 selectors. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/

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
  const tolerance = checkVerifierSettings(options.algorithms, options.clockToleranceSec)
  const key = loadKey(options.key, {
    name: options.keyName,
    algorithms: options.algorithms,
    jwksTimeoutMs: options.jwksTimeoutMs,
    jwksCooldownMs: options.jwksCooldownMs,
  })
  const algorithms = [...key.algorithms]
  const verified = new VerifiedTokens<MercureClaims>(tolerance)

  return {
    algorithms,
    keyDescription: key.description,
    cached: (token) => verified.get(token, Date.now() / 1000),
    async verify(token) {
      const now = Date.now() / 1000
      const known = verified.get(token, now)
      if (known !== undefined) return known
      const payload = await verifyJws(jose, token, tolerance, () => key)
      const claims = readClaims(payload)
      verified.set(token, claims, payload, now)
      return claims
    },
  }
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
  // The 1.0 selector marks (`EXACT_MARK`, `URL_PATTERN_MARK`) are control characters: a 0.x
  // token holding one would forge a 1.0 matcher, e.g. a URL pattern where its issuer meant text.
  const forged = value.findIndex((selector: string) => CONTROL_CHARACTER.test(selector))
  if (forged !== -1) {
    throw invalid(`The token's ${label} claim holds a control character (entry ${forged}).`)
  }
  return [...(value as string[])]
}

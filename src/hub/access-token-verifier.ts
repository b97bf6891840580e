import type { JWTPayload } from 'jose'
import { quote } from './auth-error.ts'
import { readAuthorizationDetails } from './authorization-details.ts'
import { type JoseModule, loadJose, VERIFYING_TOKENS } from './jose.ts'
import { checkVerifierSettings, invalid, verifyJws } from './jws-verification.ts'
import { loadKey, type VerificationKey } from './jwt-keys.ts'
import type { MercureClaims } from './jwt-verifier.ts'
import { MAX_CACHED_TOKEN_LENGTH, VerifiedTokens } from './verified-tokens.ts'

/**
 * An issuer whose Mercure 1.0 access tokens the hub trusts, bound to its own keys ([spec]
 * draft-08 §Token validation: "each key MUST be bound to an issuer identifier"; with several
 * issuers a token's signature is checked only with the keys of its `iss`, never a pooled set).
 */
export interface TrustedIssuer {
  /** The issuer identifier, compared exactly with a token's `iss`. */
  readonly issuer: string
  /**
   * The key verifying its tokens for both roles: a shared secret, a PEM public key or
   * certificate, or a JWKS URL or file (see `loadKey`). Defaults to the hub's publisher key for
   * publishing and its subscriber key for subscribing.
   */
  readonly key?: string | undefined
  /** The key verifying its publishers' tokens, when not `key`. */
  readonly publisherKey?: string | undefined
  /** The key verifying its subscribers' tokens, when not `key`. */
  readonly subscriberKey?: string | undefined
  /**
   * Its `alg` allow-list. Defaults to what its key type supports (`HS256` for a secret); for a
   * role it has no key of its own for, to the hub's allow-list for that role.
   */
  readonly algorithms?: readonly string[] | undefined
  /** Whether it is an OAuth authorization server, listed in the protected resource metadata. */
  readonly authorizationServer?: boolean | undefined
}

/** What a 1.0 token is checked against, per request. */
export interface AccessTokenContext {
  /** The hub's resource identifier, which `aud` must contain (pinned, or derived per request). */
  readonly audience: string
  /** The hub URL that relative URL patterns in the token's grants resolve against. */
  readonly hubUrl: string
}

/** Verifies Mercure 1.0 access tokens for one role (publishing or subscribing). */
export interface AccessTokenVerifier {
  /**
   * Verifies an RFC 9068 access token and reads its `authorization_details`.
   *
   * @returns Claims with `protocol: '1.0'`: `publish` and `subscribe` selectors (see
   *   `mercure-matcher.ts`) and `subscribePayloads`.
   * @throws {AuthError} 401 `invalid-token` for any token problem, with a message that says which.
   * @throws {JwksUnavailableError} when a JWKS URL cannot be fetched.
   */
  verify(token: string, context: AccessTokenContext): Promise<MercureClaims>
}

/** Options of {@link createAccessTokenVerifier}. */
export interface AccessTokenVerifierOptions {
  /**
   * The issuers whose tokens are trusted, each bound to its keys. Required; an empty list makes a
   * verifier that refuses every token.
   */
  issuers: readonly TrustedIssuer[]
  /**
   * Which tokens it verifies: `'publisher'` uses each issuer's `publisherKey`, `'subscriber'` its
   * `subscriberKey`, either falling back to its `key`, then to `defaultKey`. Required.
   */
  role: 'publisher' | 'subscriber'
  /**
   * The hub's key for this role, for the issuers with no key of their own (see `loadKey`).
   * Defaults to none: an issuer without a key is then a configuration error.
   */
  defaultKey?: string | undefined
  /**
   * The `alg` allow-list of the issuers that use `defaultKey` and list no `algorithms` of their
   * own (an issuer with its own key defaults to what that key supports). `none` is refused
   * whatever is configured. Defaults to what `defaultKey` supports (`HS256` for a secret).
   */
  defaultAlgorithms?: readonly string[] | undefined
  /** Leeway for `exp` and `nbf`, in seconds, to absorb clock skew. Defaults to `0`. */
  clockToleranceSec?: number | undefined
  /**
   * The `defaultKey` setting's name for configuration error messages. Defaults to
   * `'The publisher key'` or `'The subscriber key'`.
   */
  keyName?: string | undefined
  /** How long to wait for a JWKS URL, in milliseconds. Defaults to `5000`. */
  jwksTimeoutMs?: number | undefined
  /** Minimum time between JWKS refetches for unknown `kid`s, in milliseconds. Defaults to `30000`. */
  jwksCooldownMs?: number | undefined
}

/** Longest request context a verified token is cached with (audience and hub URL together). */
const MAX_CACHED_CONTEXT_LENGTH = 2048

/**
 * Creates a verifier for Mercure 1.0 access tokens (draft-dunglas-mercure-08 §Token validation,
 * RFC 9068): `typ` is `at+jwt`; `iss` names a trusted issuer, whose keys alone check the
 * signature, with its `alg` allow-list; `exp` is present and enforced, `nbf` enforced when
 * present; `aud` contains the hub's resource identifier; and `authorization_details` is read into
 * selectors (see `authorization-details.ts`). `iat`, `sub`, `client_id` and `jti` are not
 * required: they are the issuer's obligations, and the conformance suite's token has none.
 *
 * @example
 * ```ts
 * const verifier = createAccessTokenVerifier({
 *   issuers: [{ issuer: 'https://auth.example.com', key: 'https://auth.example.com/jwks.json' }],
 *   role: 'publisher',
 * })
 * const claims = await verifier.verify(token, { audience: hubUrl, hubUrl })
 * ```
 * @throws {Error} synchronously for a configuration mistake (a bad key, an issuer listed twice or
 *   without a key, `none` or an algorithm that does not fit the key), with a message that says
 *   how to fix it.
 * @throws {MissingPackageError} synchronously when jose is not installed.
 */
export function createAccessTokenVerifier(
  options: AccessTokenVerifierOptions,
): AccessTokenVerifier {
  const jose = loadJose(VERIFYING_TOKENS)
  const tolerance = checkVerifierSettings(options.defaultAlgorithms, options.clockToleranceSec)
  const keys = issuerKeys(options)
  const verified = new VerifiedTokens<MercureClaims>(
    tolerance,
    MAX_CACHED_TOKEN_LENGTH + MAX_CACHED_CONTEXT_LENGTH,
  )

  return {
    async verify(token, context) {
      const now = Date.now() / 1000
      // The claims depend on the context: `aud` is checked against it and relative URL patterns
      // resolve against its hub URL. JSON ends where the token starts, so no two contexts collide.
      const cacheKey = `${JSON.stringify([context.audience, context.hubUrl])}${token}`
      const known = verified.get(cacheKey, now)
      if (known !== undefined) return known
      const payload = await verifyJws(jose, token, tolerance, (header) => {
        checkType(header.typ)
        // The unverified `iss` only picks whose keys to try: with several issuers, a signature is
        // never checked against a pooled set (draft-08 S:647-662), or any issuer could mint
        // another's tokens.
        const issuer = readIssuer(jose, token)
        const key = keys.get(issuer)
        if (key === undefined) {
          throw invalid(`The token's issuer ${quote(issuer)} is not a trusted issuer.`)
        }
        return key
      })
      const claims = readClaims(payload, context)
      verified.set(cacheKey, claims, payload, now)
      return claims
    },
  }
}

/** Loads each issuer's key for the role, once per distinct key setting. */
function issuerKeys(options: AccessTokenVerifierOptions): Map<string, VerificationKey> {
  const { role } = options
  const roleKey = role === 'publisher' ? 'publisherKey' : 'subscriberKey'
  const loaded = new Map<string, VerificationKey>()
  const keys = new Map<string, VerificationKey>()
  for (const trusted of options.issuers) {
    const { issuer } = trusted
    if (typeof issuer !== 'string' || issuer === '') {
      throw new Error(
        'A trusted issuer has an empty "issuer": set it to the exact "iss" of its tokens.',
      )
    }
    if (keys.has(issuer)) {
      throw new Error(`The trusted issuer ${quote(issuer)} is listed twice; list each issuer once.`)
    }
    const own = trusted[roleKey] ?? trusted.key
    const source = own ?? options.defaultKey
    if (source === undefined) {
      throw new Error(
        `The trusted issuer ${quote(issuer)} has no key for ${role}s: set its ${roleKey} or key, or the hub's ${role} key.`,
      )
    }
    const algorithms =
      trusted.algorithms ?? (own === undefined ? options.defaultAlgorithms : undefined)
    const name =
      own === undefined
        ? (options.keyName ?? `The ${role} key`)
        : `The ${trusted[roleKey] === undefined ? 'key' : roleKey} of the trusted issuer ${quote(issuer)}`
    const id = JSON.stringify([source, algorithms ?? null])
    let key = loaded.get(id)
    if (key === undefined) {
      key = loadKey(source, {
        name,
        algorithms,
        jwksTimeoutMs: options.jwksTimeoutMs,
        jwksCooldownMs: options.jwksCooldownMs,
      })
      loaded.set(id, key)
    }
    keys.set(issuer, key)
  }
  return keys
}

/**
 * draft-08 S:636-639 (RFC 9068 §4): `typ` is `at+jwt`, the `application/` prefix optional and the
 * comparison case-insensitive. Explicit typing (RFC 8725 §3.11) is the token-confusion guard: an
 * ID token or a 0.x token (`JWT`, or no `typ`) signed by the same key is never read as an access
 * token.
 */
function checkType(typ: unknown): void {
  const type = typeof typ === 'string' ? typ.toLowerCase() : undefined
  if (type === 'at+jwt' || type === 'application/at+jwt') return
  const found = typeof typ === 'string' ? `typ ${quote(typ, 40)}` : 'no typ'
  throw invalid(`The token is not a Mercure 1.0 access token (${found}; expected "at+jwt").`)
}

/** The token's `iss`, read before its signature is checked (to pick the issuer's keys only). */
function readIssuer({ decodeJwt }: JoseModule, token: string): string {
  let iss: unknown
  try {
    iss = decodeJwt(token).iss
  } catch {
    throw invalid("The token's payload is not a base64url-encoded JSON object.")
  }
  if (typeof iss !== 'string' || iss === '') {
    throw invalid('The token has no "iss" claim naming its issuer.')
  }
  return iss
}

/** The claims of a 1.0 access token this module reads. */
interface AccessTokenPayload extends JWTPayload {
  authorization_details?: unknown
}

/** Checks the claims jose does not (`exp` present, `aud`) and reads the grants. */
function readClaims(payload: AccessTokenPayload, context: AccessTokenContext): MercureClaims {
  // [spec] draft-08 S:663-665: a token without `exp` MUST be rejected (jose checks it only when
  // present). A token that never expires is a stolen session that never ends.
  if (typeof payload.exp !== 'number') {
    throw invalid('The token has no "exp" claim; Mercure 1.0 access tokens must expire.')
  }
  const aud = payload.aud
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined
  if (audiences === undefined) {
    throw invalid('The token has no "aud" claim (a string or an array) naming this hub.')
  }
  // Audience restriction (RFC 9068 §4): a token issued for another resource server must not be
  // replayed here, even by an issuer this hub trusts.
  if (!audiences.includes(context.audience)) {
    throw invalid(`The token's "aud" claim does not contain ${quote(context.audience)}.`)
  }
  const grants = readAuthorizationDetails(payload.authorization_details, context.hubUrl)
  if (!grants.ok) throw invalid(grants.message)
  return {
    protocol: '1.0',
    publish: grants.value.publish,
    subscribe: grants.value.subscribe,
    payload: undefined,
    subscribePayloads: grants.value.subscribePayloads,
    exp: payload.exp,
  }
}

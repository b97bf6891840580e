import { MAX_TOKEN_MATCHERS, MERCURE_DETAIL_TYPE } from './authorization-details.ts'
import { loadSigningKey } from './jwt-keys.ts'
import { MAX_CLAIM_SELECTORS } from './jwt-verifier.ts'
import { checkMatchValue, isMatchType, type MatchType } from './mercure-matcher.ts'

/** Options of {@link mintToken}. */
export interface MintTokenOptions {
  /** A shared secret or a PEM private key (see `loadSigningKey`). Required. */
  key: string
  /**
   * The JWS algorithm. Defaults to `HS256` for a secret, `RS256` for an RSA key, the curve's
   * `ES*` for an EC key and `EdDSA` for an Ed25519 key.
   */
  alg?: string | undefined
  /** `mercure.publish`: the topic selectors the bearer may publish to. Defaults to none. */
  publish?: readonly string[] | undefined
  /** `mercure.subscribe`: the selectors of private updates the bearer may receive. Defaults to none. */
  subscribe?: readonly string[] | undefined
  /** `mercure.payload`: any JSON value, attached to the bearer's subscriptions. Defaults to none. */
  payload?: unknown
  /**
   * Lifetime: a number of seconds, or a string such as `90s`, `15m`, `1h` or `7d` (a bare number
   * is seconds). `null` mints a token that never expires, which Mercure advises against.
   * Defaults to `'1h'`.
   */
  expiresIn?: string | number | null | undefined
  /** The `sub` claim. Defaults to none. */
  subject?: string | undefined
  /** The key setting's name for error messages. Defaults to `'The signing key'`. */
  keyName?: string | undefined
}

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 }

/**
 * Mints a Mercure token: a compact JWS whose `mercure` claim holds `publish`, `subscribe` and
 * `payload`, with `iat`, and `exp` unless `expiresIn` is `null`. Used by `ssehub token` and the
 * dev mode.
 *
 * @example
 * ```ts
 * const token = await mintToken({ key: secret, publish: ['https://example.com/books/{id}'] })
 * ```
 * @throws {Error} for a key that cannot sign, an algorithm that does not fit it, or a bad
 *   `expiresIn`; messages never contain the key.
 */
export async function mintToken(options: MintTokenOptions): Promise<string> {
  const signer = loadSigningKey(options.key, options.alg, options.keyName)
  const mercure: { publish?: string[]; subscribe?: string[]; payload?: unknown } = {}
  if (options.publish !== undefined) mercure.publish = selectors('publish', options.publish)
  if (options.subscribe !== undefined) mercure.subscribe = selectors('subscribe', options.subscribe)
  if (options.payload !== undefined) mercure.payload = options.payload

  const now = Math.floor(Date.now() / 1000)
  const claims: { mercure: typeof mercure; iat: number; exp?: number; sub?: string } = {
    mercure,
    iat: now,
  }
  const lifetime = options.expiresIn === undefined ? '1h' : options.expiresIn
  if (lifetime !== null) claims.exp = now + seconds(lifetime)
  if (options.subject !== undefined) claims.sub = options.subject
  return signer.sign(claims)
}

/** A topic matcher a Mercure 1.0 token grants: a `topics` entry of its authorization details. */
export interface TokenMatcher {
  /** The value: a topic, a URL pattern, or `*` (every topic, whatever the type). */
  readonly match: string
  /** How `match` is read: `exact` or `urlpattern`. Defaults to `exact` (left out of the token). */
  readonly match_type?: MatchType | undefined
}

/** Options of {@link mintAccessToken}. */
export interface MintAccessTokenOptions {
  /** A shared secret or a PEM private key (see `loadSigningKey`). Required. */
  key: string
  /** The JWS algorithm. Defaults as for {@link mintToken}: `HS256` for a secret. */
  alg?: string | undefined
  /** The `iss` claim: the issuer identifier the hub trusts this key for. Required. */
  issuer: string
  /**
   * The `aud` claim: the hub's resource identifier (by default the hub URL,
   * `https://hub.example.com/.well-known/mercure`), or several. Required.
   */
  audience: string | readonly string[]
  /** The topics the bearer may publish to, as one `publish` detail. Defaults to none. */
  publish?: readonly TokenMatcher[] | undefined
  /**
   * The topics whose private updates the bearer may receive, as one `subscribe` detail. Defaults
   * to none.
   */
  subscribe?: readonly TokenMatcher[] | undefined
  /**
   * The `subscribe` detail's `payload`: a JSON object, shown to other subscribers in subscription
   * events. Needs `subscribe`. Defaults to none.
   */
  payload?: Readonly<Record<string, unknown>> | undefined
  /**
   * Lifetime: a number of seconds, or a string such as `90s`, `15m`, `1h` or `7d`. A 1.0 token
   * always expires. Defaults to `'1h'`.
   */
  expiresIn?: string | number | undefined
  /** The `sub` claim: whom the token is for. Defaults to none. */
  subject?: string | undefined
  /** The `client_id` claim (RFC 9068 §2.2). Defaults to none. */
  clientId?: string | undefined
  /** The key setting's name for error messages. Defaults to `'The signing key'`. */
  keyName?: string | undefined
}

/**
 * Mints a Mercure 1.0 access token (draft-dunglas-mercure-08, RFC 9068): a compact JWS with
 * `typ: at+jwt`, `iss`, `aud`, `exp`, `iat`, a random `jti`, and `authorization_details` holding
 * one Mercure detail for `publish` and one for `subscribe` (with `payload`). Used by
 * `ssehub token --issuer … --audience …`.
 *
 * @example
 * ```ts
 * const token = await mintAccessToken({
 *   key: secret,
 *   issuer: 'https://example.com',
 *   audience: 'https://example.com/.well-known/mercure',
 *   publish: [{ match: 'https://example.com/books/:id', match_type: 'urlpattern' }],
 * })
 * ```
 * @throws {Error} for a key that cannot sign, an algorithm that does not fit it, a bad
 *   `expiresIn`, or grants a hub would refuse (a bad matcher, more than 100 of them, a payload
 *   that is not an object); messages never contain the key.
 */
export async function mintAccessToken(options: MintAccessTokenOptions): Promise<string> {
  const signer = loadSigningKey(options.key, options.alg, options.keyName)
  if (typeof options.issuer !== 'string' || options.issuer === '') {
    throw new TypeError('issuer must be a non-empty string: the "iss" the hub trusts.')
  }
  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience
  if (!Array.isArray(audience) || audience.length === 0 || audience.some((a) => !a)) {
    throw new TypeError("audience must be the hub's resource identifier (a non-empty string).")
  }
  if ((options.expiresIn as unknown) === null) {
    throw new RangeError('A Mercure 1.0 access token must expire: expiresIn cannot be null.')
  }
  const details: MercureDetail[] = []
  const total = (options.publish?.length ?? 0) + (options.subscribe?.length ?? 0)
  if (total > MAX_TOKEN_MATCHERS) {
    throw new RangeError(
      `publish and subscribe list more than ${MAX_TOKEN_MATCHERS} matchers together; hubs refuse such tokens.`,
    )
  }
  if (options.publish !== undefined && options.publish.length > 0) {
    details.push(detail('publish', options.publish))
  }
  if (options.payload !== undefined) {
    const { payload } = options
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
      throw new TypeError('payload must be a JSON object.')
    }
    if (options.subscribe === undefined || options.subscribe.length === 0) {
      throw new TypeError('payload goes with subscribe grants: add some, or leave it out.')
    }
  }
  if (options.subscribe !== undefined && options.subscribe.length > 0) {
    const subscribe = detail('subscribe', options.subscribe)
    if (options.payload !== undefined) subscribe.payload = options.payload
    details.push(subscribe)
  }
  const now = Math.floor(Date.now() / 1000)
  const claims: AccessTokenClaims = {
    iss: options.issuer,
    aud: audience.length === 1 ? (audience[0] as string) : [...audience],
    iat: now,
    exp: now + seconds(options.expiresIn ?? '1h'),
    // Unique per token (RFC 9068 §2.2), so a hub or an issuer can tell replays and revoke one.
    jti: crypto.randomUUID(),
  }
  if (options.subject !== undefined) claims.sub = options.subject
  if (options.clientId !== undefined) claims.client_id = options.clientId
  claims.authorization_details = details
  return signer.sign({ ...claims }, 'at+jwt')
}

/** The claims of a minted 1.0 access token, in the order they are written. */
interface AccessTokenClaims {
  iss: string
  aud: string | string[]
  iat: number
  exp: number
  jti: string
  sub?: string
  client_id?: string
  authorization_details?: MercureDetail[]
}

/** A Mercure authorization detail, as minted. */
interface MercureDetail {
  type: string
  actions: string[]
  topics: TokenMatcher[]
  payload?: Readonly<Record<string, unknown>>
}

/** One Mercure detail granting `action` on `matchers`, checked as a hub would check it. */
function detail(action: string, matchers: readonly TokenMatcher[]): MercureDetail {
  if (!Array.isArray(matchers)) {
    throw new TypeError(`${action} must be an array of topic matchers ({ match, match_type? }).`)
  }
  const topics = matchers.map((matcher: TokenMatcher, index) => {
    const where = `${action}[${index}]`
    if (typeof matcher !== 'object' || matcher === null || typeof matcher.match !== 'string') {
      throw new TypeError(`${where} must be a topic matcher ({ match, match_type? }).`)
    }
    const { match, match_type: type } = matcher
    if (match === '') throw new TypeError(`${where}.match is empty.`)
    const problem = checkMatchValue(match, `${where}.match`)
    if (problem !== null) throw new RangeError(problem)
    if (type === undefined || type === 'exact') return { match }
    if (!isMatchType(type)) {
      throw new TypeError(`${where}.match_type must be "exact" or "urlpattern".`)
    }
    return { match, match_type: type }
  })
  return { type: MERCURE_DETAIL_TYPE, actions: [action], topics }
}

function selectors(name: string, value: readonly string[]): string[] {
  if (!Array.isArray(value) || value.some((selector) => typeof selector !== 'string')) {
    throw new TypeError(`${name} must be an array of topic selectors (strings).`)
  }
  if (value.length > MAX_CLAIM_SELECTORS) {
    throw new RangeError(
      `${name} lists more than ${MAX_CLAIM_SELECTORS} selectors; hubs refuse such tokens.`,
    )
  }
  return [...value]
}

function seconds(lifetime: string | number): number {
  const match = typeof lifetime === 'string' ? /^(\d+)\s*([smhd]?)$/i.exec(lifetime.trim()) : null
  const value =
    typeof lifetime === 'number'
      ? lifetime
      : match === null
        ? Number.NaN
        : Number(match[1]) * (UNIT_SECONDS[(match[2] || 's').toLowerCase()] as number)
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(
      `expiresIn must be a positive whole number of seconds or a duration such as 90s, 15m, 1h or 7d; got ${JSON.stringify(lifetime).slice(0, 40)}.`,
    )
  }
  return value
}

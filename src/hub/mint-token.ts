import { loadSigningKey } from './jwt-keys.ts'
import { MAX_CLAIM_SELECTORS } from './jwt-verifier.ts'

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

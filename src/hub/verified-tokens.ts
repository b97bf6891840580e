/** Most tokens a {@link VerifiedTokens} cache keeps; the oldest go first. */
export const MAX_VERIFIED_TOKENS = 1000

/**
 * Longest key kept by default: a thousand of the largest tokens accepted (64 KiB) would hold
 * 64 MiB.
 */
export const MAX_CACHED_TOKEN_LENGTH = 4096

/** How long a verified token is trusted without checking its signature again, in seconds. */
export const VERIFIED_TOKEN_TTL_SEC = 60

interface Entry<T> {
  readonly claims: T
  readonly exp: number | undefined
  readonly nbf: number | undefined
  readonly until: number
}

/**
 * Claims of tokens verified before. A token verified before is the same bytes with the same
 * signature: only its time claims need checking again. Entries are kept at most
 * {@link VERIFIED_TOKEN_TTL_SEC}, so a key removed from a JWKS stops being honoured soon; at most
 * {@link MAX_VERIFIED_TOKENS} of them, of keys at most `maxKeyLength` long.
 */
export class VerifiedTokens<T> {
  readonly #entries = new Map<string, Entry<T>>()
  readonly #tolerance: number
  readonly #maxKeyLength: number

  /**
   * @param toleranceSec Leeway for `exp` and `nbf`, in seconds, as the verifier's.
   * @param maxKeyLength Longest key kept, in characters. Defaults to {@link MAX_CACHED_TOKEN_LENGTH}.
   */
  constructor(toleranceSec: number, maxKeyLength = MAX_CACHED_TOKEN_LENGTH) {
    this.#tolerance = toleranceSec
    this.#maxKeyLength = maxKeyLength
  }

  /** The claims of `key` if it was verified less than a minute ago and is still in its time window. */
  get(key: string, nowSec: number): T | undefined {
    const known = this.#entries.get(key)
    if (
      known !== undefined &&
      nowSec < known.until &&
      (known.exp === undefined || nowSec < known.exp + this.#tolerance) &&
      (known.nbf === undefined || nowSec >= known.nbf - this.#tolerance)
    ) {
      return known.claims
    }
    return undefined
  }

  /**
   * Remembers the claims verified for `key` (a token, or a token with what it was checked
   * against), until its `exp` or for {@link VERIFIED_TOKEN_TTL_SEC}. A key longer than
   * `maxKeyLength` is not kept.
   */
  set(key: string, claims: T, times: { exp?: unknown; nbf?: unknown }, nowSec: number): void {
    if (key.length > this.#maxKeyLength) return
    const exp = typeof times.exp === 'number' ? times.exp : undefined
    const nbf = typeof times.nbf === 'number' ? times.nbf : undefined
    this.#entries.set(key, { claims, exp, nbf, until: nowSec + VERIFIED_TOKEN_TTL_SEC })
    if (this.#entries.size > MAX_VERIFIED_TOKENS) {
      this.#entries.delete(this.#entries.keys().next().value as string)
    }
  }
}

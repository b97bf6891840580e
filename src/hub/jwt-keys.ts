import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { JSONWebKeySet, JWK, JWTPayload, JWTVerifyGetKey } from 'jose'
import { quote } from './auth-error.ts'
import { type JoseModule, loadJose, SIGNING_TOKENS, VERIFYING_TOKENS } from './jose.ts'

/** What a key source turned out to be. */
export type KeySourceType = 'secret' | 'pem' | 'jwks-url' | 'jwks-file'

/** A key ready to verify tokens with jose, with the algorithms it may verify. */
export interface VerificationKey {
  /** What the source was: a shared secret, a PEM key or certificate, a JWKS URL or a JWKS file. */
  readonly type: KeySourceType
  /**
   * The algorithm allow-list to pass to jose: the configured one, checked against the key, or the
   * defaults for this kind of key (see {@link LoadKeyOptions.algorithms}).
   */
  readonly algorithms: readonly string[]
  /** The jose key resolver (`jwtVerify(token, getKey, …)`). */
  readonly getKey: JWTVerifyGetKey
  /** A description safe to log, e.g. `an RSA key (2048 bits)`; never the key material. */
  readonly description: string
}

/** Options of {@link loadKey}. */
export interface LoadKeyOptions {
  /**
   * The setting's name, used in error messages so they say what to fix
   * (e.g. `SSEHUB_PUBLISHER_JWT_KEY`). Defaults to `'The JWT key'`.
   */
  name?: string | undefined
  /**
   * The algorithms tokens may be signed with. Every entry must fit the key: `HS256`/`HS384`/`HS512`
   * for a secret; `RS*`/`PS*` for RSA, `ES256`/`ES384`/`ES512` for the matching EC curve and
   * `EdDSA`/`Ed25519` for Ed25519 keys. `none` is always refused. Defaults to `['HS256']` for a
   * secret, and to every algorithm the key type supports for a PEM key or a JWKS.
   */
  algorithms?: readonly string[] | undefined
  /** How long to wait for a JWKS URL to answer, in milliseconds. Defaults to `5000`. */
  jwksTimeoutMs?: number | undefined
  /**
   * How long after a successful JWKS fetch an unknown `kid` may trigger another fetch, in
   * milliseconds. Defaults to `30000`.
   */
  jwksCooldownMs?: number | undefined
  /** How long fetched JWKS keys are trusted before a refetch, in milliseconds. Defaults to `600000`. */
  jwksCacheMaxAgeMs?: number | undefined
}

/** A key that signs JWTs (see {@link loadSigningKey}). */
export interface SigningKey {
  /** The JWS algorithm it signs with, e.g. `HS256`. */
  readonly alg: string
  /**
   * Signs `claims` into a compact JWS with the header `{ alg, typ }`.
   *
   * @param typ The header's `typ`: `at+jwt` for a Mercure 1.0 access token. Defaults to `'JWT'`.
   */
  sign(claims: Readonly<Record<string, unknown>>, typ?: string): Promise<string>
}

/**
 * A JWKS URL could not be fetched or its content could not be used. This is the hub's problem,
 * not the client's, so it is not an `AuthError`: answer 503, log it, and do not tell the client
 * to get a new token.
 */
export class JwksUnavailableError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'JwksUnavailableError'
  }
}

const HMAC = ['HS256', 'HS384', 'HS512']
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const EDDSA = ['EdDSA', 'Ed25519']
const ASYMMETRIC = [...RSA, 'ES256', 'ES384', 'ES512', ...EDDSA]
const KNOWN = [...HMAC, ...ASYMMETRIC]

/** Node's curve names → the one JWS algorithm each curve may sign (RFC 7518 §3.4). */
const EC_CURVES: Readonly<Record<string, readonly [alg: string, crv: string]>> = {
  prime256v1: ['ES256', 'P-256'],
  secp384r1: ['ES384', 'P-384'],
  secp521r1: ['ES512', 'P-521'],
}
const JWK_EC_CURVES: Readonly<Record<string, string>> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
}

/**
 * [spec] RFC 7518 §3.2: "A key of the same size as the hash output … or larger MUST be used with
 * this algorithm." A shorter secret can be brute-forced offline from any one captured token.
 */
export const HMAC_MIN_BYTES: Readonly<Record<string, number>> = {
  HS256: 32,
  HS384: 48,
  HS512: 64,
}

/** A parsed JSON object: a JWKS (`keys`) or a single JWK (`kty`). */
interface JsonObject {
  keys?: unknown
  kty?: unknown
  [member: string]: unknown
}

/** JWK members that hold private key material (RFC 7518 §6). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv']

/**
 * Turns a key setting into a jose verification key resolver. The source is, by its shape:
 *
 * - `-----BEGIN …`: a PEM public key, certificate or private key (RSA of 2048 bits or more, EC
 *   P-256/P-384/P-521, Ed25519). From a private key only the public half is kept, so the same
 *   value can also mint tokens. In an environment variable, newlines may be written as `\n`.
 * - `https://…` (or `http://` to a loopback host): a JWKS URL, fetched lazily and cached.
 * - `file:…` or a path ending in `.json`: a JWKS file (or a single JWK), read now.
 * - anything else: a shared HMAC secret, used byte for byte (UTF-8), at least 32 bytes long.
 *
 * @throws {Error} synchronously, with a message naming the setting and the fix, for any
 *   configuration mistake. Messages never contain key material.
 * @throws {MissingPackageError} when jose is not installed.
 */
export function loadKey(source: string, options: LoadKeyOptions = {}): VerificationKey {
  const jose = loadJose(VERIFYING_TOKENS)
  const name = options.name ?? 'The JWT key'
  const text = typeof source === 'string' ? source.trim() : ''
  if (text === '') {
    throw new Error(
      `${name} is empty. Set it to a shared secret of at least 32 bytes, a PEM public key, or a JWKS URL or .json file.`,
    )
  }
  if (text.startsWith('-----BEGIN')) return pemKey(name, text, options)
  if (/^https?:\/\//i.test(text)) return jwksUrlKey(jose, name, text, options)
  if (/^file:/i.test(text) || /\.json$/i.test(text)) return jwksFileKey(jose, name, text, options)
  if (text.startsWith('{')) {
    throw new Error(
      `${name} looks like JSON. An inline JWK or JWKS is not supported: save it to a .json file and set ${name} to its path.`,
    )
  }
  return secretKey(name, source, options.algorithms)
}

/**
 * Turns a key setting into a key that signs tokens: a shared secret (HS256/HS384/HS512) or a PEM
 * private key (RSA, EC or Ed25519). Used by `ssehub token` and the dev mode.
 *
 * @param alg The JWS algorithm. Defaults to `HS256` for a secret, `RS256` for an RSA key, the
 *   curve's `ES*` for an EC key and `EdDSA` for an Ed25519 key.
 * @param name The setting's name for error messages. Defaults to `'The signing key'`.
 * @throws {Error} synchronously for a public key, a JWKS, or an algorithm that does not fit the key.
 * @throws {MissingPackageError} when jose is not installed.
 */
export function loadSigningKey(
  source: string,
  alg?: string | undefined,
  name = 'The signing key',
): SigningKey {
  const { SignJWT } = loadJose(SIGNING_TOKENS)
  const text = typeof source === 'string' ? source.trim() : ''
  if (text === '')
    throw new Error(`${name} is empty. Set it to a shared secret or a PEM private key.`)
  let key: KeyObject | Uint8Array
  let algorithms: readonly string[]
  if (text.startsWith('-----BEGIN')) {
    const pem = normalizePem(text)
    if (!/-----BEGIN (?:RSA |EC |)PRIVATE KEY-----/.test(pem)) {
      throw new Error(
        `${name} is not an unencrypted PEM private key. Signing needs the private key (or a shared secret); a public key or certificate can only verify.`,
      )
    }
    try {
      key = createPrivateKey(pem)
    } catch (error) {
      throw new Error(`${name} looks like a PEM but could not be parsed: ${reason(error)}.`)
    }
    const kind = asymmetricKind(name, key)
    algorithms = allowList(name, alg === undefined ? undefined : [alg], kind.algorithms, kind.what)
  } else if (/^https?:\/\//i.test(text) || /^file:/i.test(text) || /\.json$/i.test(text)) {
    throw new Error(`${name} is a JWKS, which holds public keys only and cannot sign tokens.`)
  } else {
    key = secretKey(name, source, alg === undefined ? undefined : [alg]).secret
    algorithms = [alg ?? 'HS256']
  }
  const chosen = algorithms[0] as string
  return {
    alg: chosen,
    sign: (claims, typ = 'JWT') =>
      new SignJWT(claims as JWTPayload).setProtectedHeader({ alg: chosen, typ }).sign(key),
  }
}

function secretKey(
  name: string,
  source: string,
  configured: readonly string[] | undefined,
): VerificationKey & { secret: Uint8Array } {
  const secret = new TextEncoder().encode(source)
  const what = 'a shared secret (it is not a PEM, a URL or a .json path)'
  const algorithms = allowList(name, configured ?? ['HS256'], HMAC, what)
  for (const alg of algorithms) {
    const min = HMAC_MIN_BYTES[alg] as number
    if (secret.byteLength < min) {
      throw new Error(
        `${name} is a shared secret shorter than ${min} bytes, too short for ${alg}: an attacker who captures one token could brute-force it offline and forge tokens. Generate one with: openssl rand -base64 ${min}`,
      )
    }
  }
  return {
    type: 'secret',
    algorithms,
    getKey: async () => secret,
    description: 'a shared secret',
    secret,
  }
}

function pemKey(name: string, text: string, options: LoadKeyOptions): VerificationKey {
  const pem = normalizePem(text)
  if (/-----BEGIN [A-Z ]*ENCRYPTED/.test(pem)) {
    throw new Error(
      `${name} is an encrypted private key, and ssehub cannot ask for its passphrase. Give the public key instead (openssl pkey -in key.pem -pubout).`,
    )
  }
  let key: KeyObject
  try {
    // A private key yields its public half, and a certificate its subject's key: verification
    // never needs more, so nothing private stays in memory longer than this call.
    key = createPublicKey(pem)
  } catch (error) {
    throw new Error(
      `${name} looks like a PEM but could not be parsed: ${reason(error)}. Check that the whole block is there, BEGIN and END lines included.`,
    )
  }
  const kind = asymmetricKind(name, key)
  return {
    type: 'pem',
    algorithms: allowList(name, options.algorithms, kind.algorithms, kind.what),
    getKey: async () => key,
    description: kind.what,
  }
}

function jwksUrlKey(
  jose: JoseModule,
  name: string,
  text: string,
  options: LoadKeyOptions,
): VerificationKey {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new Error(`${name} looks like a JWKS URL but is not a valid URL.`)
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    throw new Error(
      `${name} is a JWKS URL over plain http to a host that is not loopback: anyone on the network path could swap the keys and forge tokens (key substitution). Use https://.`,
    )
  }
  if (url.username !== '' || url.password !== '') {
    throw new Error(`${name} is a JWKS URL with credentials in it, which fetch refuses; drop them.`)
  }
  // Query and fragment may carry API keys: keep them out of messages and logs.
  const where = `${url.origin}${url.pathname}`
  const remote = jose.createRemoteJWKSet(url, {
    timeoutDuration: options.jwksTimeoutMs ?? 5000,
    cooldownDuration: options.jwksCooldownMs ?? 30_000,
    cacheMaxAge: options.jwksCacheMaxAgeMs ?? 600_000,
  })
  const what = `the JWKS at ${where}`
  return {
    type: 'jwks-url',
    algorithms: allowList(name, options.algorithms, ASYMMETRIC, what),
    getKey: async (header, token) => {
      try {
        return await remote(header, token)
      } catch (error) {
        if (isTokenMismatch(jose, error)) throw error
        throw new JwksUnavailableError(
          `The JWKS at ${where} could not be fetched or used: ${reason(error)}.`,
          { cause: error },
        )
      }
    },
    description: what,
  }
}

function jwksFileKey(
  jose: JoseModule,
  name: string,
  text: string,
  options: LoadKeyOptions,
): VerificationKey {
  const path = /^file:\/\//i.test(text) ? fileURLToPath(text) : text.replace(/^file:/i, '')
  let raw: string
  try {
    raw = readFileSync(path, 'utf8')
  } catch (error) {
    throw new Error(
      `${name} names the JWKS file ${path}, which could not be read: ${reason(error)}.`,
    )
  }
  let json: unknown
  try {
    json = JSON.parse(raw)
  } catch {
    // No cause and no V8 message: they quote the input, which may hold private keys.
    throw new Error(`${name} names the JWKS file ${path}, which is not valid JSON.`)
  }
  const jwks = publicJwks(name, path, json)
  const local = jose.createLocalJWKSet(jwks)
  const what = `the JWKS file ${path}`
  return {
    type: 'jwks-file',
    algorithms: allowList(name, options.algorithms, jwksAlgorithms(jwks), what),
    getKey: (header, token) => local(header, token),
    description: what,
  }
}

/** Checks a JWKS file's shape and keeps only public members, as a PEM private key is reduced. */
function publicJwks(name: string, path: string, json: unknown): JSONWebKeySet {
  const isObject = (value: unknown): value is JsonObject =>
    typeof value === 'object' && value !== null && !Array.isArray(value)
  const keys: unknown[] = isObject(json) && Array.isArray(json.keys) ? json.keys : [json]
  if (keys.length === 0) throw new Error(`${name}: the JWKS file ${path} has no keys.`)
  return {
    keys: keys.map((jwk: unknown, index): JWK => {
      if (!isObject(jwk) || typeof jwk.kty !== 'string') {
        throw new Error(
          `${name}: key #${index} of the JWKS file ${path} is not a JWK (an object with "kty").`,
        )
      }
      if (jwk.kty === 'oct') {
        throw new Error(
          `${name}: key #${index} of the JWKS file ${path} is a symmetric ("oct") key; set the shared secret itself as ${name} instead.`,
        )
      }
      const copy = { ...jwk }
      for (const member of PRIVATE_JWK_MEMBERS) delete copy[member]
      return copy as JWK
    }),
  }
}

/** The algorithms the keys of a JWKS can verify, from their `kty`/`crv` (and `alg`, if set). */
function jwksAlgorithms(jwks: JSONWebKeySet): string[] {
  const algorithms = new Set<string>()
  for (const jwk of jwks.keys) {
    const byType =
      jwk.kty === 'RSA'
        ? RSA
        : jwk.kty === 'EC'
          ? [JWK_EC_CURVES[jwk.crv ?? ''] ?? '']
          : jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
            ? EDDSA
            : []
    for (const alg of byType)
      if (alg !== '' && (jwk.alg === undefined || jwk.alg === alg)) algorithms.add(alg)
  }
  return ASYMMETRIC.filter((alg) => algorithms.has(alg))
}

/** Which algorithms an asymmetric key can verify or sign, and a loggable description of it. */
function asymmetricKind(name: string, key: KeyObject): { algorithms: string[]; what: string } {
  const type = key.asymmetricKeyType
  const details = key.asymmetricKeyDetails ?? {}
  if (type === 'rsa') {
    const bits = details.modulusLength ?? 0
    if (bits < 2048) {
      throw new Error(
        `${name} is an RSA key of ${bits} bits; JWS requires at least 2048 (RFC 7518 §3.3).`,
      )
    }
    return { algorithms: RSA, what: `an RSA key (${bits} bits)` }
  }
  if (type === 'ec') {
    const curve = EC_CURVES[details.namedCurve ?? '']
    if (curve === undefined) {
      throw new Error(
        `${name} is an EC key on a curve JWS does not use (${details.namedCurve ?? 'unknown'}); use P-256, P-384 or P-521.`,
      )
    }
    return { algorithms: [curve[0]], what: `an EC ${curve[1]} key` }
  }
  if (type === 'ed25519') return { algorithms: EDDSA, what: 'an Ed25519 key' }
  if (type === 'rsa-pss') {
    throw new Error(
      `${name} is an RSASSA-PSS-only key, which Web Crypto cannot import. Use a plain RSA key (rsaEncryption): it verifies PS256 as well.`,
    )
  }
  throw new Error(
    `${name} is a ${type ?? 'non-asymmetric'} key, which ssehub cannot use for JWTs; use RSA (2048 bits or more), EC P-256/P-384/P-521 or Ed25519.`,
  )
}

/** Validates a configured algorithm allow-list against what the key can verify. */
function allowList(
  name: string,
  configured: readonly string[] | undefined,
  compatible: readonly string[],
  what: string,
): string[] {
  if (configured === undefined) return [...compatible]
  if (configured.length === 0) {
    throw new Error(
      `${name}: the algorithm allow-list is empty. List some of ${compatible.join(', ')}, or leave it unset for the defaults.`,
    )
  }
  for (const alg of configured) {
    if (alg.toLowerCase() === 'none') {
      throw new Error(
        `The algorithm "none" can never be allowed: it marks an unsigned token, which anyone can forge.`,
      )
    }
    if (!KNOWN.includes(alg)) {
      throw new Error(
        `Unknown JWS algorithm ${quote(alg, 20)}; ssehub supports ${KNOWN.join(', ')}.`,
      )
    }
    if (compatible.includes(alg)) continue
    if (HMAC.includes(alg)) {
      // Algorithm confusion: with HS* allowed, the public key's text would become an HMAC secret,
      // and anyone who has the public key (it is public) could sign tokens.
      throw new Error(
        `${name} is ${what}, but ${alg} is an HMAC algorithm: verifying HS* tokens with a public key is the algorithm-confusion attack. Allow ${compatible.join(', ')}, or configure a shared secret instead.`,
      )
    }
    throw new Error(
      `${name} is ${what}, which cannot verify ${alg}. Algorithms that fit it: ${compatible.join(', ')}.`,
    )
  }
  return [...new Set(configured)]
}

/** Environment variables often carry a PEM on one line with literal `\n`s. */
function normalizePem(text: string): string {
  return text.includes('\n') ? text : text.replaceAll('\\n', '\n')
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127(?:\.\d{1,3}){3}$/.test(hostname)
  )
}

/** Errors that say the token does not fit the key set, as opposed to the key set being broken. */
function isTokenMismatch({ errors }: JoseModule, error: unknown): boolean {
  return (
    error instanceof errors.JWKSNoMatchingKey ||
    error instanceof errors.JWKSMultipleMatchingKeys ||
    error instanceof errors.JOSENotSupported
  )
}

/** A short reason from an error: OpenSSL, fs and fetch messages never quote key material. */
function reason(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error'
  const cause = error.cause instanceof Error ? ` (${error.cause.message})` : ''
  const text = `${error.message}${cause}`
  return text.length > 200 ? `${text.slice(0, 200)}…` : text
}

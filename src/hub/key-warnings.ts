import { HMAC_MIN_BYTES } from './jwt-keys.ts'

/**
 * Shared secrets printed in documentation, framework recipes and examples. A hub configured with
 * one accepts tokens anyone can mint: the secret is public.
 */
const WELL_KNOWN_SECRETS: ReadonlySet<string> = new Set([
  // Mercure's documentation, its Docker image and the Symfony/API Platform recipes.
  '!ChangeThisMercureHubJWTSecretKey!',
  '!ChangeMe!',
  // jwt.io's default HS256 example.
  'your-256-bit-secret',
])

/** A key setting to check (see {@link keyWarnings}). */
export interface KeySetting {
  /** What to call it in the warning, e.g. `'the publisher key'`. */
  name: string
  /** The setting's value. */
  key: string
  /** Its `alg` allow-list; `null` for the default (`HS256` for a secret). */
  algorithms: readonly string[] | null
}

/**
 * Why each key setting is unsafe although it may load: a well-known example secret, or a secret
 * shorter than its HMAC algorithms need (`loadKey` refuses those at start; this says it for
 * callers that only warn). One line per distinct problem, never quoting the key; none for a PEM
 * key, a JWKS or a good secret.
 */
export function keyWarnings(settings: readonly KeySetting[]): string[] {
  const byProblem = new Map<string, string[]>()
  for (const { name, key, algorithms } of settings) {
    const problem = secretProblem(key, algorithms)
    if (problem === null) continue
    byProblem.set(problem, [...(byProblem.get(problem) ?? []), name])
  }
  return [...byProblem].map(([problem, names]) => `${names.join(' and ')}: ${problem}`)
}

function secretProblem(key: string, algorithms: readonly string[] | null): string | null {
  const text = key.trim()
  // The shapes loadKey reads as something other than a shared secret.
  if (/^-----BEGIN|^https?:\/\/|^file:|\.json$/i.test(text)) return null
  if (WELL_KNOWN_SECRETS.has(text)) {
    return 'is a well-known example secret, printed in public documentation: anyone can sign tokens the hub accepts. Generate one with: openssl rand -base64 48'
  }
  const bytes = new TextEncoder().encode(key).byteLength
  for (const alg of algorithms ?? ['HS256']) {
    const min = HMAC_MIN_BYTES[alg]
    if (min !== undefined && bytes < min) {
      return `is a shared secret of ${bytes} bytes, shorter than the ${min} that ${alg} needs: it can be brute-forced offline from one captured token. Generate one with: openssl rand -base64 ${min}`
    }
  }
  return null
}

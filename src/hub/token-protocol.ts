/** A Mercure protocol version a hub may speak: `'1.0'` (draft-dunglas-mercure-08) or `'0.x'`. */
export type MercureProtocolVersion = '1.0' | '0.x'

/** [spec] RFC 9068 §4: "the typ header … MUST be at+jwt or application/at+jwt", any case. */
const ACCESS_TOKEN_TYP = /^(application\/)?at\+jwt$/i

/**
 * Which protocol a token is meant for, read from its (unverified) header: an RFC 9068 access
 * token (`typ: at+jwt`) is a Mercure 1.0 token, anything else is taken for 0.x. Only chooses the
 * verifier: each then checks everything its protocol requires, so a token cannot escape a check
 * by claiming the other protocol (a 1.0 token without `typ` fails as a 0.x one: no `mercure`
 * claim grants nothing, and a 1.0 request refuses 0.x tokens).
 */
export function tokenProtocol(token: string): MercureProtocolVersion {
  const dot = token.indexOf('.')
  // A header of more than 4 KiB is no header we would accept: not worth decoding.
  if (dot <= 0 || dot > 4096) return '0.x'
  // The tokens of one issuer share their header: decoded once (about a microsecond with `atob`
  // and `JSON.parse`), not on every publish. At most 256 headers are kept, the oldest out first.
  const encoded = token.slice(0, dot)
  const known = decoded.get(encoded)
  if (known !== undefined) return known
  let version: MercureProtocolVersion = '0.x'
  try {
    const header: unknown = JSON.parse(atob(encoded.replaceAll('-', '+').replaceAll('_', '/')))
    const typ = (header as { typ?: unknown } | null)?.typ
    if (typeof typ === 'string' && ACCESS_TOKEN_TYP.test(typ)) version = '1.0'
  } catch {
    // Not a JWS header: the 0.x verifier says what is wrong with it.
  }
  decoded.set(encoded, version)
  if (decoded.size > 256) decoded.delete(decoded.keys().next().value as string)
  return version
}

/** Headers already read, by their base64url text. */
const decoded = new Map<string, MercureProtocolVersion>()

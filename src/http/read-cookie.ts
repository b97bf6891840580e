/**
 * Reads one cookie from a `Cookie` header (RFC 6265 §4.2: `name=value` pairs separated by `; `).
 * The first occurrence wins: browsers list the cookie with the longest matching path first.
 */
export function readCookie(header: string | string[] | undefined, name: string): string | null {
  if (header === undefined) return null
  // HTTP/2 may deliver the cookies in several header fields (RFC 9113 §8.2.3).
  const text = Array.isArray(header) ? header.join('; ') : header
  for (const pair of text.split(';')) {
    const eq = pair.indexOf('=')
    if (eq === -1 || pair.slice(0, eq).trim() !== name) continue
    let value = pair.slice(eq + 1).trim()
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"'))
      value = value.slice(1, -1)
    if (value.includes('%')) {
      try {
        value = decodeURIComponent(value)
      } catch {
        // Not percent-encoded after all: a JWS never contains '%', so the verifier will refuse it.
      }
    }
    return value === '' ? null : value
  }
  return null
}

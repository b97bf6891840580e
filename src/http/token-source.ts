import { AuthError } from '../hub/auth-error.ts'
import { DEFAULT_COOKIE_NAME } from './defaults.ts'
import { readCookie } from './read-cookie.ts'
import type { RequestHeaders } from './request-headers.ts'

/** Where a request carried its token. `cookie` is the one that needs the CSRF origin check. */
export type TokenSource = 'header' | 'query' | 'cookie'

/** A token found in a request, and where. */
export interface ExtractedToken {
  /** The compact JWS, not yet verified. */
  token: string
  /** Where it came from. */
  source: TokenSource
}

/** The parts of a request {@link extractToken} reads: Node's `IncomingMessage` fits. */
export interface TokenRequest {
  /** The request headers, lower-cased names as Node gives them. */
  headers: RequestHeaders
  /** The request target, e.g. `/.well-known/mercure?topic=…`. */
  url: string
}

/** [spec] RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * Finds the token of a request, with Mercure draft-07's precedence:
 *
 * 1. An `Authorization: Bearer` header. If present it MUST be used, and the query parameter and
 *    cookie are ignored, so an invalid header token is never rescued by a valid cookie.
 * 2. Else the `authorization` query parameter (then the cookie is ignored).
 * 3. Else the cookie `cookieName` (or the first of the `cookieName`s the request has).
 *
 * An `Authorization` header with another scheme (e.g. `Basic`, sent by browsers to a site behind
 * a password-protected proxy) is not a Mercure credential and is skipped: RFC 6750 only defines
 * errors for the Bearer scheme, and refusing it would lock cookie-authenticated subscribers out
 * of such sites. An empty cookie value counts as no cookie (that is how logouts clear it).
 *
 * @param cookieName The cookie holding the token, or the cookies that may, in order. Defaults to
 *   `'mercureAuthorization'`.
 * @returns The token and its source, or `null` when the request carries none (anonymous).
 * @throws {AuthError} 400 `malformed` (RFC 6750 `invalid_request`) for a Bearer header without a
 *   single token, a repeated or empty `authorization` query parameter.
 */
export function extractToken(
  req: TokenRequest,
  cookieName: string | readonly string[] = DEFAULT_COOKIE_NAME,
  options: {
    /**
     * Whether the `authorization` query parameter is read. Mercure 1.0 requests never carry a
     * token in the URL ([spec] draft-08 §Token presentation: hubs "do not accept" it; a URL ends
     * up in logs, histories and Referer headers): pass `false` and it is ignored, the request
     * counting as token-less. Defaults to `true`.
     */
    query?: boolean
  } = {},
): ExtractedToken | null {
  const header: unknown = req.headers['authorization']
  if (Array.isArray(header)) {
    throw malformed('The Authorization header is sent more than once.')
  }
  if (typeof header === 'string') {
    // A publisher sends the same header on every publish: compared (a memcmp), not parsed again.
    if (header === lastHeader && lastFound !== null) return lastFound
    const match = /^Bearer(?:[ \t]+(.*))?$/i.exec(header.trim())
    if (match !== null) {
      const token = match[1]?.trim() ?? ''
      if (token === '') throw malformed('The Authorization header says Bearer but has no token.')
      if (!B64TOKEN.test(token)) {
        throw malformed("The Authorization header's Bearer value is not a single token.")
      }
      lastFound = Object.freeze({ token, source: 'header' })
      lastHeader = header
      return lastFound
    }
  }

  if (options.query !== false) {
    const fromQuery = queryToken(req.url)
    if (fromQuery !== null) return { token: fromQuery, source: 'query' }
  }

  for (const name of typeof cookieName === 'string' ? [cookieName] : cookieName) {
    const cookie = readCookie(req.headers['cookie'], name)
    if (cookie !== null) return { token: cookie, source: 'cookie' }
  }
  return null
}

/** The last `Authorization` header read as a Bearer token, and what was found in it. */
let lastHeader: string | undefined
let lastFound: ExtractedToken | null = null

function queryToken(target: string): string | null {
  const queryStart = target.indexOf('?')
  if (queryStart === -1 || !mayNameAuthorization(target, queryStart + 1)) return null
  const values = new URLSearchParams(target.slice(queryStart + 1)).getAll('authorization')
  if (values.length === 0) return null
  // [spec] RFC 6750 §3.1: invalid_request when the request "repeats the same parameter".
  if (values.length > 1) throw malformed('The "authorization" query parameter is repeated.')
  const token = values[0] as string
  if (token === '') throw malformed('The "authorization" query parameter is empty.')
  return token
}

/**
 * Whether the query starting at `start` may hold a field named `authorization`: it names it
 * literally, or has a name with a `%` escape (which could spell it). Most subscriptions have
 * neither (their `%`s are in the topics, the values), and their query is then not parsed a
 * second time here, URLSearchParams and all.
 */
function mayNameAuthorization(target: string, start: number): boolean {
  if (target.includes('authorization', start)) return true
  // Each search starts past the last one (not at each field), so a query of many fields is still
  // scanned in one pass: URLs are the client's to make (DoS guard against a quadratic scan).
  let equals = target.indexOf('=', start)
  let percent = target.indexOf('%', start)
  let field = start
  while (percent !== -1 && field < target.length) {
    let end = target.indexOf('&', field)
    if (end === -1) end = target.length
    if (equals !== -1 && equals < field) equals = target.indexOf('=', field)
    if (percent < field) percent = target.indexOf('%', field)
    const nameEnd = equals === -1 || equals > end ? end : equals
    if (percent !== -1 && percent < nameEnd) return true
    field = end + 1
  }
  return false
}

function malformed(message: string): AuthError {
  return new AuthError('malformed', message)
}

import { AuthError, quote } from './auth-error.ts'
import type { MercureClaims } from './jwt-verifier.ts'
import type { TopicMatcher } from './subscriber.ts'

/** The request headers {@link checkPublishOrigin} reads. Node's `IncomingHttpHeaders` fits. */
export interface OriginHeaders {
  /** The `Origin` request header. */
  readonly origin?: string | string[] | undefined
  /** The `Referer` request header. */
  readonly referer?: string | string[] | undefined
}

/**
 * Decides whether a publisher may publish an update to `topics` (canonical and alternates).
 *
 * [spec] Mercure draft-07: the token MUST have `mercure.publish`; if it is missing or empty the
 * publisher may not publish at all, and every topic must match one of its selectors.
 *
 * @param claims The verified claims, or `null` when the request carried no token.
 * @returns `null` when allowed; otherwise a 401 `missing-token` (no token) or a 403
 *   `insufficient-scope` error that names the claim or the first topic that failed.
 */
export function canPublish(
  claims: MercureClaims | null | undefined,
  topics: readonly string[],
  matches: TopicMatcher,
): AuthError | null {
  if (claims === null || claims === undefined) {
    return new AuthError(
      'missing-token',
      'Publishing requires a token with a mercure.publish claim.',
    )
  }
  const selectors = claims.publish
  // A 1.0 token's grants are its `authorization_details`, a 0.x token's its `mercure` claim.
  const grants =
    claims.protocol === '1.0' ? 'authorization_details grant no "publish"' : 'mercure.publish claim'
  if (selectors === undefined || selectors.length === 0) {
    return forbidden(
      claims.protocol === '1.0'
        ? `The token's ${grants}, so it may not publish.`
        : selectors === undefined
          ? 'The token has no mercure.publish claim, so it may not publish.'
          : "The token's mercure.publish claim is empty, so it may not publish.",
    )
  }
  for (const topic of topics) {
    if (!selectors.some((selector) => matches(selector, topic))) {
      return forbidden(
        claims.protocol === '1.0'
          ? `The token's publish grants do not allow the topic ${quote(topic)}.`
          : `The token's mercure.publish claim does not allow the topic ${quote(topic)}.`,
      )
    }
  }
  return null
}

/**
 * The CSRF check for publishing with cookie authentication: a browser attaches the cookie to a
 * form POST from any site, so the request's origin must be one the operator trusts. Call it only
 * when the token came from the cookie; header and query tokens cannot be sent by another site.
 *
 * [spec] Mercure draft-07: hubs SHOULD check `Origin`, falling back to `Referer`, against the
 * allowed origins, and SHOULD reject a request with neither. With `'*'` any origin passes, but
 * one of the two headers is still required. The opaque origin `null` (sandboxed frames, some
 * redirects) only passes `'*'`.
 *
 * @param allowedOrigins Allowed origins such as `https://example.com`, or `'*'` (also as a list
 *   entry). Compared by origin, so case and default ports do not matter.
 * @returns `null` when allowed; otherwise a 403 `forbidden-origin` error naming the header.
 */
export function checkPublishOrigin(
  headers: OriginHeaders,
  allowedOrigins: readonly string[] | '*',
): AuthError | null {
  let origin = first(headers.origin)
  let header = 'Origin'
  if (origin === undefined) {
    const referer = first(headers.referer)
    if (referer === undefined) {
      return forbiddenOrigin(
        'Publishing with cookie authentication requires an Origin or Referer header (CSRF protection), and the request has neither.',
      )
    }
    try {
      origin = new URL(referer).origin
    } catch {
      return forbiddenOrigin(
        'The Referer header is not a URL, so the origin of this cookie-authenticated publish cannot be checked (CSRF protection).',
      )
    }
    header = 'Referer'
  }
  if (allowedOrigins === '*' || allowedOrigins.includes('*')) return null
  const candidate = normalize(origin)
  if (candidate !== 'null' && allowedOrigins.some((allowed) => normalize(allowed) === candidate)) {
    return null
  }
  return forbiddenOrigin(
    `The origin ${quote(origin)} (from the ${header} header) may not publish with cookie authentication (CSRF protection). Add it to the allowed publish origins if it is yours.`,
  )
}

function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value
  return text === undefined || text.trim() === '' ? undefined : text.trim()
}

/** `HTTPS://Example.com:443` and `https://example.com` are the same origin. */
function normalize(origin: string): string {
  try {
    const normalized = new URL(origin).origin
    // Non-special schemes (e.g. chrome-extension://) have an opaque origin: compare them as text.
    return normalized === 'null' ? origin.toLowerCase() : normalized
  } catch {
    return origin.toLowerCase()
  }
}

function forbidden(message: string): AuthError {
  return new AuthError('insufficient-scope', message)
}

function forbiddenOrigin(message: string): AuthError {
  return new AuthError('forbidden-origin', message)
}

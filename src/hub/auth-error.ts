/**
 * Why a request was refused, as a stable string a program can switch on.
 *
 * - `missing-token`: no credential at all (401, RFC 6750 §3.1: no `error` attribute).
 * - `invalid-token`: a token was presented but is expired, forged, unsigned, signed with an
 *   algorithm that is not allowed, or its `mercure` claim is malformed (401, `invalid_token`).
 * - `insufficient-scope`: the token is valid but does not grant this operation (403,
 *   `insufficient_scope`).
 * - `malformed`: the request carries its credential in a broken way, e.g. a `Bearer` header with
 *   no token or two `authorization` query parameters (400, `invalid_request`).
 * - `forbidden-origin`: a cookie-authenticated publish came from an origin that is not allowed, or
 *   without `Origin`/`Referer` (403; the CSRF check of Mercure draft-07 §Authorization). The token
 *   itself is fine, so no RFC 6750 `error` attribute is set.
 */
export type AuthErrorCode =
  | 'missing-token'
  | 'invalid-token'
  | 'insufficient-scope'
  | 'malformed'
  | 'forbidden-origin'

/** The HTTP status of each {@link AuthErrorCode}. */
const STATUS = {
  'missing-token': 401,
  'invalid-token': 401,
  'insufficient-scope': 403,
  malformed: 400,
  'forbidden-origin': 403,
} as const satisfies Record<AuthErrorCode, 400 | 401 | 403>

/** The RFC 6750 §3.1 `error` attribute of each {@link AuthErrorCode}, if it has one. */
const BEARER_ERROR: Readonly<Record<AuthErrorCode, string | null>> = {
  'missing-token': null,
  'invalid-token': 'invalid_token',
  'insufficient-scope': 'insufficient_scope',
  malformed: 'invalid_request',
  'forbidden-origin': null,
}

/** The `realm` of every `WWW-Authenticate` challenge ssehub sends. */
const REALM = 'ssehub'

/** Longest `error_description` we send: a header is not the place for an essay. */
const MAX_DESCRIPTION_LENGTH = 300

/**
 * An authentication or authorization failure, ready to be turned into an HTTP response: send
 * `status`, the `WWW-Authenticate` header `wwwAuthenticate`, and `message` as the body.
 *
 * Messages say which claim, topic or header failed, so a developer can fix their token without
 * reading our source. They never contain the token or any key material (unlike hono's
 * `JwtTokenInvalid`): they end up in logs and response bodies, and a token in a log is a stolen
 * session (token leakage). Values taken from the request are passed through {@link quote}.
 */
export class AuthError extends Error {
  /** Stable machine-readable reason. */
  readonly code: AuthErrorCode
  /** The HTTP status to answer with: 400, 401 or 403, derived from `code`. */
  readonly status: 400 | 401 | 403
  /**
   * The `WWW-Authenticate` header value (RFC 6750 §3), e.g.
   * `Bearer realm="ssehub", error="invalid_token", error_description="The token expired at …"`.
   * The description is `message` reduced to the characters RFC 6750 allows inside the quotes.
   */
  readonly wwwAuthenticate: string

  constructor(code: AuthErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'AuthError'
    this.code = code
    this.status = STATUS[code]
    this.wwwAuthenticate = challenge(code, message)
  }

  /** True for any `AuthError`, also one from another realm or copy of this module. */
  static is(value: unknown): value is AuthError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { name?: unknown }).name === 'AuthError' &&
      typeof (value as { code?: unknown }).code === 'string' &&
      typeof (value as { status?: unknown }).status === 'number'
    )
  }
}

/**
 * Quotes a request-supplied value (a topic, an origin, a `kid`) for an error message: JSON string
 * syntax, so CR, LF and quotes are escaped (no log or header injection), and cut to `max`
 * characters so a megabyte-long topic does not become a megabyte-long log line.
 *
 * @param max Longest value kept, in characters. Defaults to `200`.
 */
export function quote(value: string, max = 200): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value)
}

function challenge(code: AuthErrorCode, message: string): string {
  const error = BEARER_ERROR[code]
  // [spec] RFC 6750 §3.1: "If the request lacks any authentication information …, the resource
  // server SHOULD NOT include an error code or other error information."
  if (code === 'missing-token') return `Bearer realm="${REALM}"`
  const parts = [`Bearer realm="${REALM}"`]
  if (error !== null) parts.push(`error="${error}"`)
  parts.push(`error_description="${description(message)}"`)
  return parts.join(', ')
}

/**
 * [spec] RFC 6750 §3: error_description values "MUST NOT include characters outside the set
 * %x20-21 / %x23-5B / %x5D-7E". A `"` would end the quoted string early and a CR/LF would split
 * the header (CWE-113), so both are replaced; non-ASCII (IRIs in topics) becomes `?`.
 */
function description(message: string): string {
  const safe = message.replaceAll('"', "'").replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?')
  return safe.length > MAX_DESCRIPTION_LENGTH
    ? `${safe.slice(0, MAX_DESCRIPTION_LENGTH - 3)}...`
    : safe
}

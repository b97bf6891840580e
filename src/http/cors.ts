/** Options for {@link createCors}. */
export interface CorsOptions {
  /** Origins allowed to call the hub from a browser with credentials; `'*'` for any (without credentials). Defaults to none. */
  origins?: readonly string[] | '*'
}

/** Decides the CORS headers of one response. */
export interface Cors {
  /** Headers for a response to a request from `origin` (none when it is not allowed). */
  headers(origin: string | undefined): Record<string, string>
  /** Headers for a preflight (`OPTIONS`) from `origin`, or `null` when it is not allowed. */
  preflight(origin: string | undefined): Record<string, string> | null
}

const ALLOWED_HEADERS = 'authorization, cache-control, last-event-id, content-type'
const EXPOSED_HEADERS = 'link, last-event-id, mercure-last-event-id'
/** The headers of a response to a request without CORS: one object for all of them, never changed. */
const NONE: Record<string, string> = Object.freeze({})

/**
 * CORS for the hub. With credentials (cookies, `withCredentials`), the standard forbids `*`, and
 * reflecting any origin would let every site read a user's private updates: only listed origins
 * are echoed. `*` (no credentials) suits a hub with anonymous subscribers only.
 */
export function createCors(options: CorsOptions = {}): Cors {
  const origins = options.origins ?? []
  const allowed = origins === '*' ? null : new Set(origins)
  const base = (origin: string | undefined): Record<string, string> | null => {
    if (origin === undefined) return null
    if (allowed === null) return { 'access-control-allow-origin': '*', vary: 'Origin' }
    if (!allowed.has(origin)) return null
    return {
      'access-control-allow-origin': origin,
      'access-control-allow-credentials': 'true',
      vary: 'Origin',
    }
  }
  return {
    headers(origin) {
      const headers = base(origin)
      return headers === null
        ? NONE
        : { ...headers, 'access-control-expose-headers': EXPOSED_HEADERS }
    },
    preflight(origin) {
      const headers = base(origin)
      if (headers === null) return null
      return {
        ...headers,
        'access-control-allow-methods': 'GET, HEAD, POST, QUERY, OPTIONS',
        'access-control-allow-headers': ALLOWED_HEADERS,
        'access-control-max-age': '600',
      }
    },
  }
}

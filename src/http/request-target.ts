/**
 * A request target parsed once per request, however many handlers read it: a server's router and
 * the hub's handler (`createMercureHandler`) each need the path, and each parse is a call into the
 * URL parser and a new object (about a microsecond and a half of a connect's CPU). The last target
 * parsed is remembered, so the second reader of the same request gets the same `URL` back.
 *
 * @module
 */

/** The base a request target (`/path?query`) resolves against: only its path and query count. */
const BASE = 'http://localhost'

let lastTarget: string | undefined
let lastUrl: URL | null = null

/**
 * `target` (a request's `url`, `/path?query`) as a `URL` against `http://localhost`, or `null`
 * when it does not parse. Route with it before calling the hub's handler, and the hub reads the
 * very same `URL` instead of parsing the target again. The `URL` may be shared with the hub and
 * with other requests for the same target: read it, never change it.
 */
export function parseRequestTarget(target: string): URL | null {
  if (target === lastTarget) return lastUrl
  let url: URL | null
  try {
    url = new URL(target, BASE)
  } catch {
    url = null
  }
  lastTarget = target
  lastUrl = url
  return url
}

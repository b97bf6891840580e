import type { OutgoingHttpHeaders } from 'node:http'

/**
 * Headers for every page and static file. The pages load only their own scripts and styles
 * (no inline script), so a strict CSP costs nothing and blunts any XSS that slips through.
 * `connect-src 'self'` lets the pages reach the hub on the same origin.
 */
export const PAGE_SECURITY_HEADERS: Readonly<OutgoingHttpHeaders> = Object.freeze({
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
})

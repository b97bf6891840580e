import type { SseClientErrorCode } from './error-event.ts'

/** What the request carried, for a message that points at the likely cause. */
export interface SentRequest {
  /** The `Last-Event-ID` sent, `''` for none (only its length is ever reported). */
  lastEventId: string
  /** The URL requested. */
  url: URL
}

const UTF8 = new TextEncoder()

/**
 * Statuses that say "not now" rather than "never": 429 (a hub's budget or per-client cap, sent
 * with `Retry-After`), 502 and 504 (a proxy whose upstream is gone, as during a restart), 503 (a
 * hub shutting down or not ready). The standard fails the connection on any status but 200; a
 * client that did so here would stop for good at every rolling restart, so these are retried,
 * no sooner than `Retry-After` says and with the usual backoff.
 */
export const RETRIED_STATUSES: ReadonlySet<number> = new Set([429, 502, 503, 504])

/** Longest wait taken from a `Retry-After`, so a hostile or mistaken value cannot park a client. */
const MAX_RETRY_AFTER_MS = 10 * 60_000

/**
 * The wait a `Retry-After` header asks for, in milliseconds: delay-seconds or an HTTP-date
 * (RFC 9110 §10.2.3), at most 10 minutes; `0` when absent or unreadable.
 */
export function retryAfterMs(value: string | null, now = Date.now()): number {
  if (value === null) return 0
  const text = value.trim()
  const ms = /^\d+$/.test(text) ? Number(text) * 1000 : Date.parse(text) - now
  // Hundreds of digits parse as Infinity: that is the longest wait, not an unreadable one.
  return Number.isNaN(ms) ? 0 : Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS)
}

/**
 * The `error` event's code and message for a response whose status is not 200: [spec] the
 * client fails the connection (no reconnection), so the message says why and what to change,
 * never quoting a header's value.
 */
export function statusError(
  status: number,
  sent: SentRequest,
): { code: SseClientErrorCode; message: string } {
  const stop = 'The client stops: the same request would be refused again.'
  switch (status) {
    case 204:
      return { code: 'no-content', message: 'The server answered 204: stop.' }
    case 431: {
      const idBytes = UTF8.encode(sent.lastEventId).byteLength
      const cause =
        idBytes > 256
          ? ` The Last-Event-ID sent was ${idBytes} bytes, the likely cause: an id that long cannot be resumed from (publish shorter ids).`
          : ' Check the size of the cookies and the Authorization header.'
      return {
        code: 'headers-too-large',
        message: `The server refused the request headers as too large (431).${cause} ${stop}`,
      }
    }
    case 414:
      return {
        code: 'url-too-long',
        message: `The server refused the URL as too long (414): ${sent.url.href.length} characters. Subscribe to fewer or shorter topics (a URI template can stand for many). ${stop}`,
      }
    case 401:
    case 403:
      return {
        code: 'http-status',
        message: `The server refused the credentials (${status}): the token is missing, invalid, expired or does not allow these topics. ${stop}`,
      }
    default:
      return {
        code: 'http-status',
        message: RETRIED_STATUSES.has(status)
          ? `The server answered ${status}, not 200: it is overloaded, restarting or behind a proxy that lost it. The client tries again after the Retry-After the server gave, or its backoff.`
          : status >= 500
            ? `The server answered ${status}, not 200: it failed. A status other than 200 ends an event stream; create a new client to try again.`
            : `The server answered ${status}, not 200 (a ${status >= 400 ? 'refused request: check the URL and topics' : 'status an event stream cannot follow'}). ${stop}`,
      }
  }
}

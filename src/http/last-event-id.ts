import type { IncomingHttpHeaders } from 'node:http'

/**
 * The `Last-Event-ID` request header, decoded as the UTF-8 the browser sent.
 *
 * [spec] the header value is the last event ID string "UTF-8 encoded", but Node hands header
 * values over as latin1 (one char per byte), so `…` (E2 80 A6) would arrive as `â\u0080¦` and a
 * resume by that id would never match. Re-reading the bytes as UTF-8 undoes that.
 * Returns `undefined` when the header is absent.
 */
export function readLastEventId(headers: IncomingHttpHeaders): string | undefined {
  const raw = headers['last-event-id']
  if (raw === undefined) return undefined
  const value = Array.isArray(raw) ? raw.join(', ') : raw
  return Buffer.from(value, 'latin1').toString('utf8')
}

/**
 * `text` as a header value Node sends as its UTF-8 bytes: the inverse of {@link readLastEventId}.
 * Node writes header strings as latin1 (one byte per char), so an id with `…` is passed as its
 * three bytes, one char each, to reach the client as the UTF-8 it resumes with.
 */
export function utf8HeaderValue(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1')
}

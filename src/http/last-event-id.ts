import type { RequestHeaders } from './request-headers.ts'

const UTF8_ENCODER = new TextEncoder()
const UTF8_DECODER = new TextDecoder()
// biome-ignore lint/suspicious/noControlCharactersInRegex: ASCII is the fast path, controls included.
const ASCII = /^[\u0000-\u007f]*$/

/**
 * The `Last-Event-ID` request header, decoded as the UTF-8 the browser sent.
 *
 * [spec] the header value is the last event ID string "UTF-8 encoded", but servers hand header
 * values over as latin1 (one char per byte: Node does, and so does the Fetch standard's
 * `Headers`), so `…` (E2 80 A6) would arrive as `â\u0080¦` and a resume by that id would never
 * match. Re-reading the bytes as UTF-8 undoes that. Bytes that are not UTF-8 become U+FFFD.
 * Returns `undefined` when the header is absent.
 */
export function readLastEventId(headers: RequestHeaders): string | undefined {
  const raw = headers['last-event-id']
  if (raw === undefined) return undefined
  const value = Array.isArray(raw) ? raw.join(', ') : raw
  if (ASCII.test(value)) return value
  const bytes = new Uint8Array(value.length)
  for (let i = 0; i < value.length; i++) bytes[i] = value.charCodeAt(i) & 0xff
  return UTF8_DECODER.decode(bytes)
}

/**
 * `text` as a header value a server sends as its UTF-8 bytes: the inverse of
 * {@link readLastEventId}. Node writes header strings as latin1 (one byte per char), and the Fetch
 * standard's `Headers` takes only such byte strings, so an id with `…` is passed as its three
 * bytes, one char each, to reach the client as the UTF-8 it resumes with.
 */
export function utf8HeaderValue(text: string): string {
  if (ASCII.test(text)) return text
  let value = ''
  for (const byte of UTF8_ENCODER.encode(text)) value += String.fromCharCode(byte)
  return value
}

// Fetch's `Headers` hold byte strings: one character per byte, nothing above U+00FF. The
// Last-Event-ID is "any UTF-8 encoded string" ([spec] whatwg/html#7363), so it crosses that
// boundary as its UTF-8 bytes, one character each, in both directions.

/**
 * The UTF-8 bytes of `text` as a byte string, the only form a fetch header value may take.
 * `…` (U+2026) becomes `'\xE2\x80\xA6'`, which goes on the wire as the bytes E2 80 A6.
 */
export function toHeaderValue(text: string): string {
  let out = ''
  for (const byte of new TextEncoder().encode(text)) out += String.fromCharCode(byte)
  return out
}

/**
 * Reads a header value (a byte string) back as the UTF-8 text it encodes. A value holding a
 * character above U+00FF (some fetch stand-ins hand back decoded text) is returned as it is.
 * Invalid UTF-8 becomes U+FFFD, as the standard's decoder does.
 */
export function fromHeaderValue(value: string): string {
  const bytes = new Uint8Array(value.length)
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i)
    if (code > 0xff) return value
    bytes[i] = code
  }
  return new TextDecoder().decode(bytes)
}

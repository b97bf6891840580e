import { quote } from './auth-error.ts'
import { accepted, type Checked, refused } from './checked.ts'

/** A form's fields: each name with its values, in the order they came. */
export type FormFields = ReadonlyMap<string, readonly string[]>

// [spec] WHATWG URL §application/x-www-form-urlencoded parsing: "UTF-8 decode without BOM", so a
// BOM is kept as U+FEFF, as URLSearchParams keeps it.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
/** A `%` that does not start a `%XX` escape. */
const LONE_PERCENT = /%(?![0-9A-Fa-f]{2})/
const AMPERSAND = 0x26
const EQUALS = 0x3d

/**
 * Parses an `application/x-www-form-urlencoded` body as the WHATWG URL standard does (`&`
 * separates fields, the first `=` a name from its value, `+` is a space, empty fields are
 * skipped), but strictly: where the standard puts U+FFFD in place of bytes that are not UTF-8
 * and keeps a `%` that starts no escape as it is, this refuses the body and names the field.
 * A publisher whose encoding is broken learns it from a 400 instead of finding replacement
 * characters in what its subscribers received.
 *
 * @param body The raw body (its bytes must be UTF-8), or a string already decoded.
 */
export function parseUrlEncodedForm(body: Uint8Array | string): Checked<FormFields> {
  let text: string
  if (typeof body === 'string') {
    text = body
  } else {
    try {
      text = UTF8.decode(body)
    } catch {
      return refused(locateInvalidBytes(body))
    }
  }
  const fields = new Map<string, string[]>()
  // Walked with indexOf rather than split: no array of the sequences (issue #15).
  const length = text.length
  for (let start = 0; start < length; ) {
    let end = text.indexOf('&', start)
    if (end === -1) end = length
    if (end > start) {
      const equals = text.indexOf('=', start)
      const named = equals !== -1 && equals < end
      const rawName = text.slice(start, named ? equals : end)
      const rawValue = named ? text.slice(equals + 1, end) : ''
      const name = decodeComponent(rawName)
      if (name === null) {
        return refused(`The field name ${quote(rawName, 40)} ${problem(rawName)}.`)
      }
      const value = decodeComponent(rawValue)
      if (value === null) {
        return refused(`The ${quote(name, 40)} field ${problem(rawValue)}.`)
      }
      const values = fields.get(name)
      if (values === undefined) fields.set(name, [value])
      else values.push(value)
    }
    start = end + 1
  }
  return accepted(fields)
}

/**
 * Escapes decoded by hand in one component at most; past them the rest goes to
 * decodeURIComponent. A topic IRI has a handful (`https%3A%2F%2F…`), where the hand is 5 times
 * cheaper; a megabyte of them (a publisher's 1 MiB body of `%41`) took 72 ms by hand against
 * 8 ms natively, time the event loop serves no one else.
 */
const MAX_HAND_ESCAPES = 16

/** Decodes `+` and `%XX` escapes, or `null` when an escape is broken or the bytes are not UTF-8. */
function decodeComponent(raw: string): string | null {
  // split and join, not replaceAll: on Node 20, replaceAll took 377 ms for a megabyte of `+`
  // (a 1 MiB body's worth), split and join 49 ms, and a third of replaceAll's time on a topic.
  const spaced = raw.includes('+') ? raw.split('+').join(' ') : raw
  let percent = spaced.indexOf('%')
  if (percent === -1) return spaced
  // The escapes of ASCII bytes (`%3A`, `%2F`: most of them, in a topic IRI) are decoded here, a
  // fifth of decodeURIComponent's cost. From the first escape of a byte past 0x7F on, or past
  // MAX_HAND_ESCAPES, the rest goes to decodeURIComponent: it throws URIError on escaped bytes
  // that are not UTF-8 (truncated, overlong, surrogates), which is the strictness wanted here.
  let decoded = ''
  let from = 0
  for (let escapes = 0; percent !== -1; escapes++) {
    const high = hexValue(spaced.charCodeAt(percent + 1))
    const low = hexValue(spaced.charCodeAt(percent + 2))
    // A `%` without two hex digits, as decodeURIComponent refuses it.
    if (high === -1 || low === -1) return null
    if (high >= 8 || escapes === MAX_HAND_ESCAPES) {
      try {
        return decoded + decodeURIComponent(spaced.slice(from))
      } catch {
        return null
      }
    }
    decoded += spaced.slice(from, percent) + String.fromCharCode(high * 16 + low)
    from = percent + 3
    percent = spaced.indexOf('%', from)
  }
  return decoded + spaced.slice(from)
}

/** The value of a hex digit's UTF-16 code, or `-1` (also for `NaN`, past the end). */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30
  if (code >= 0x41 && code <= 0x46) return code - 0x37
  if (code >= 0x61 && code <= 0x66) return code - 0x57
  return -1
}

function problem(raw: string): string {
  return LONE_PERCENT.test(raw)
    ? 'has a "%" that is not followed by two hexadecimal digits (write a literal "%" as %25)'
    : 'has percent-encoded bytes that are not UTF-8 (encode the text as UTF-8 before percent-encoding it)'
}

/** The message for a body whose raw bytes are not UTF-8, naming the first field that has some. */
function locateInvalidBytes(body: Uint8Array): string {
  // `&` and `=` are ASCII, never part of a multi-byte UTF-8 sequence: splitting the bytes on them
  // finds the same fields as splitting the text would.
  let start = 0
  while (start <= body.byteLength) {
    let end = body.indexOf(AMPERSAND, start)
    if (end === -1) end = body.byteLength
    const sequence = body.subarray(start, end)
    const equals = sequence.indexOf(EQUALS)
    const rawName = equals === -1 ? sequence : sequence.subarray(0, equals)
    const name = decodeBytes(rawName)
    if (name === null) return 'A field name has bytes that are not UTF-8.'
    if (equals !== -1 && decodeBytes(sequence.subarray(equals + 1)) === null) {
      return `The ${quote(decodeComponent(name) ?? name, 40)} field has bytes that are not UTF-8 (send the form as UTF-8, percent-encoded).`
    }
    start = end + 1
  }
  return 'The body is not UTF-8.'
}

function decodeBytes(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes)
  } catch {
    return null
  }
}

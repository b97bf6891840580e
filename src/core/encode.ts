import { SseError } from './errors.ts'

/** One server-sent event, as the encoder takes it. Every field is optional. */
export interface SseEvent {
  /**
   * The payload: any string. Each CR, LF or CRLF starts a new `data:` line, so no payload can
   * inject a field; the receiver sees every line break as LF (the format has no other).
   */
  data?: string | undefined
  /** The event type; the browser's default is `message`. Must not contain CR or LF. */
  event?: string | undefined
  /** The id the client echoes as `Last-Event-ID`. Must not contain CR, LF or NUL. */
  id?: string | undefined
  /** The client's reconnection time in milliseconds: a non-negative integer. */
  retry?: number | undefined
}

const textEncoder = new TextEncoder()
// [spec] end-of-line = ( cr lf / cr / lf ): all three must start a new `data:` line, or a bare
// CR in a payload lets the sender inject fields (CWE-93; fastify-sse-v2#110, h3 GHSA-4hxc-9384-m385).
const LINE_BREAK = /\r\n|\r|\n/g
const CR_OR_LF = /[\r\n]/
const CR_LF_OR_NUL = /[\r\n\0]/

/**
 * Formats an event as its wire text, ending with the blank line that dispatches it.
 *
 * @throws {SseError} `invalid-field` when `event` or `id` contains CR or LF, `id` contains NUL,
 * or `retry` is not a non-negative safe integer: such a value would add fields of the sender's
 * choosing to the stream (CRLF injection), so it is refused rather than silently altered.
 */
export function formatEvent(event: SseEvent): string {
  let out = ''
  if (event.id !== undefined) {
    // [spec] "If the field value does not contain U+0000 NULL, then set the last event ID buffer"
    // — a NUL id would be ignored by the client, which then resumes from the wrong place.
    if (CR_LF_OR_NUL.test(event.id)) {
      throw new SseError('invalid-field', 'Event id must not contain CR, LF or NUL.')
    }
    out += `id: ${event.id}\n`
  }
  if (event.event !== undefined) {
    if (CR_OR_LF.test(event.event)) {
      throw new SseError('invalid-field', 'Event type must not contain CR or LF.')
    }
    out += `event: ${event.event}\n`
  }
  if (event.retry !== undefined) {
    out += `retry: ${checkRetry(event.retry)}\n`
  }
  if (event.data !== undefined) {
    // Always "data: " with one space: the parser strips exactly one, so a payload line that
    // itself starts with a space survives.
    out += `data: ${event.data.replace(LINE_BREAK, '\ndata: ')}\n`
  }
  return `${out}\n`
}

/**
 * Formats a comment. Each line of `text` becomes its own `:` line, so a comment can never end
 * early and start a field. An empty text gives the shortest comment, `:\n`.
 */
export function formatComment(text = ''): string {
  if (text === '') return ':\n'
  return `: ${text.replace(LINE_BREAK, '\n: ')}\n`
}

/** Formats a stand-alone `retry` field, followed by a blank line. */
export function formatRetry(milliseconds: number): string {
  return `retry: ${checkRetry(milliseconds)}\n\n`
}

/**
 * Encodes an event to UTF-8 bytes once, so the same bytes can be written to any number of
 * streams. Lone surrogates in strings become U+FFFD, as any UTF-8 encoder must do.
 *
 * @throws {SseError} as {@link formatEvent}.
 */
export function encodeEvent(event: SseEvent): Uint8Array {
  return textEncoder.encode(formatEvent(event))
}

/** Encodes a comment to UTF-8 bytes (see {@link formatComment}). */
export function encodeComment(text = ''): Uint8Array {
  return textEncoder.encode(formatComment(text))
}

function checkRetry(value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new SseError('invalid-field', 'Retry must be a non-negative integer of milliseconds.')
  }
  return value
}

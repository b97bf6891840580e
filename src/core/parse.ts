import { SseError } from './errors.ts'

/** One dispatched event, with exactly the fields a browser's `MessageEvent` carries. */
export interface SseMessage {
  /** The event type. Defaults to `'message'` when the event had no (or an empty) `event` field. */
  type: string
  /** The payload: the event's `data` lines joined with LF (CR and CRLF arrive as LF). */
  data: string
  /**
   * The stream's last event ID at dispatch time. It persists across events (and across
   * `end()`/`reset()`) until an `id` field changes it. Defaults to `''`.
   */
  lastEventId: string
}

/** Options for {@link createParser}. Every option is optional. */
export interface ParserOptions {
  /** Called for each dispatched event. Defaults to none (events are dropped). */
  onEvent?: (message: SseMessage) => void
  /**
   * Called with the new reconnection time, in milliseconds, for each valid `retry` field (ASCII
   * digits only, read in base ten: `03000` is 3000). Invalid values are ignored silently. The
   * value is not capped: clamp it before passing it to `setTimeout`, which treats delays above
   * 2³¹−1 ms as 1 ms. Defaults to none.
   */
  onRetry?: (milliseconds: number) => void
  /**
   * Called for each comment line with the raw text after the `:`. The text is kept exactly as
   * sent: `': ping'` gives `' ping'` (with the space), `':'` gives `''`. Defaults to none.
   */
  onComment?: (text: string) => void
  /**
   * Called when the parser gives up on the stream: `line-too-long` when a line grows beyond
   * `maxLineLength`, `event-too-large` when an event's data grows beyond `maxEventLength`. After
   * that the parser ignores all input until `reset()`. Defaults to none.
   */
  onError?: (error: SseError) => void
  /**
   * The longest line accepted, in characters (UTF-16 code units, line terminator excluded).
   * A longer line, terminated or not, is reported to `onError` as `line-too-long` as soon as its
   * first excess character arrives, and the parser stops (see `onError`). This bounds the memory
   * an unterminated line can take. Pass `Infinity` to disable. Defaults to `1_048_576` (1 MiB).
   */
  maxLineLength?: number
  /**
   * The largest event data accepted, in characters (UTF-16 code units, LFs between lines
   * included). Bounds the memory of an event made of endless short `data:` lines that never ends
   * with a blank line; a larger one is reported to `onError` as `event-too-large` and the parser
   * stops. Pass `Infinity` to disable. Defaults to `16_777_216` (16 Mi characters).
   */
  maxEventLength?: number
  /**
   * The initial last event ID, e.g. the `Last-Event-ID` a client resumes with. Defaults to `''`.
   */
  lastEventId?: string
}

/** An incremental `text/event-stream` parser made by {@link createParser}. */
export interface Parser {
  /**
   * Parses the next chunk of the stream. Bytes are decoded as UTF-8 (a character may be split
   * across chunks; invalid sequences become U+FFFD); strings are taken as already decoded. One
   * leading BOM (U+FEFF) is stripped at the start of each stream, whatever the chunking. Events
   * are dispatched as soon as their blank line arrives. Does nothing after a `line-too-long`
   * error until {@link Parser.reset} is called.
   *
   * Feed either bytes or strings: a string fed while a byte chunk ended inside a UTF-8 sequence
   * turns that incomplete sequence into U+FFFD. Callbacks run synchronously inside `feed()`; one
   * that throws makes `feed()` throw, and the rest of that chunk is lost.
   */
  feed(chunk: Uint8Array | string): void
  /**
   * Ends the current stream: flushes the UTF-8 decoder and discards any incomplete line and any
   * event not yet terminated by a blank line, including an `id` it set (per the standard, "any
   * pending data must be discarded"). `lastEventId` keeps its last dispatched value. The parser
   * is then ready for the next stream (a reconnection), and strips a BOM at its start again.
   * A parser stopped by `line-too-long` stays stopped.
   */
  end(): void
  /**
   * Everything `end()` does, and also leaves the stopped state after a `line-too-long` error.
   * Like eventsource-parser's `reset()` it is meant for "a new stream is starting"; unlike it,
   * `lastEventId` is kept, because a browser's EventSource keeps its last event ID string
   * across reconnections and sends it as `Last-Event-ID`. To forget it, create a new parser.
   */
  reset(): void
  /** The last event ID string: the initial `lastEventId`, then the value at the last dispatch. */
  readonly lastEventId: string
}

const LF = 0x0a
const CR = 0x0d
const SPACE = 0x20
const COLON = 0x3a
const BOM = 0xfeff
const DEFAULT_MAX_LINE_LENGTH = 1_048_576
const DEFAULT_MAX_EVENT_LENGTH = 16_777_216
const STREAM = { stream: true }

/**
 * Creates a WHATWG-exact incremental parser for `text/event-stream` (HTML §9.2.6).
 *
 * @example
 * ```ts
 * const parser = createParser({ onEvent: (message) => console.log(message.type, message.data) })
 * for await (const chunk of response.body) parser.feed(chunk)
 * parser.end()
 * ```
 *
 * @throws {TypeError} when `options` is a function rather than an options object.
 * @throws {RangeError} when `maxLineLength` or `maxEventLength` is not a positive integer or
 * `Infinity`.
 */
export function createParser(options: ParserOptions = {}): Parser {
  if (typeof options === 'function') {
    throw new TypeError(
      'createParser() takes an options object, got a function. Did you mean createParser({ onEvent: fn })?',
    )
  }
  const { onEvent, onRetry, onComment, onError } = options
  const emit = onEvent ?? noop
  const maxLineLength = checkLimit('maxLineLength', options.maxLineLength, DEFAULT_MAX_LINE_LENGTH)
  const maxEventLength = checkLimit(
    'maxEventLength',
    options.maxEventLength,
    DEFAULT_MAX_EVENT_LENGTH,
  )

  let lastEventId = options.lastEventId ?? ''
  // [spec] "a data buffer, an event type buffer, and a last event ID buffer". The ID buffer is
  // seeded with the committed ID, so a block without `id` keeps it (WPT format-field-id-3).
  let idBuffer = lastEventId
  let data = ''
  let hasData = false
  let eventType = ''
  // The incomplete last line, kept as pieces and joined once when its terminator arrives:
  // concatenating per chunk is O(N²) for a long line streamed in small chunks.
  const pieces: string[] = []
  let piecesLength = 0
  // The previous chunk ended with CR, already taken as a line end; an LF opening the next chunk
  // is the second half of that CRLF, not an empty line (which would dispatch).
  let pendingCR = false
  let atStreamStart = true
  let terminated = false
  let streamDecoder: TextDecoder | undefined
  let wholeDecoder: TextDecoder | undefined
  let decoderHoldsBytes = false

  function decode(bytes: Uint8Array): string {
    const length = bytes.length
    if (length === 0) return ''
    const last = bytes[length - 1] as number
    // Why two decoders: in Node, a `{ stream: true }` call switches a TextDecoder off its SIMD
    // path for good (about 6x slower). A chunk ending in ASCII cannot end inside a character,
    // so when the streaming decoder holds no bytes, such a chunk decodes on its own.
    if (!decoderHoldsBytes && last < 0x80) {
      wholeDecoder ??= new TextDecoder('utf-8', { ignoreBOM: true })
      return wholeDecoder.decode(bytes)
    }
    streamDecoder ??= new TextDecoder('utf-8', { ignoreBOM: true })
    decoderHoldsBytes = last >= 0x80
    return streamDecoder.decode(bytes, STREAM)
  }

  function feed(chunk: Uint8Array | string): void {
    if (terminated) return
    let text: string
    if (typeof chunk === 'string') {
      if (decoderHoldsBytes) {
        decoderHoldsBytes = false
        receive((streamDecoder as TextDecoder).decode())
        if (terminated) return
      }
      text = chunk
    } else {
      text = decode(chunk)
    }
    receive(text)
  }

  function receive(chunk: string): void {
    let text = chunk
    if (atStreamStart) {
      // A BOM split over byte chunks decodes to nothing until its last byte arrives, so the
      // check waits for the first decoded character. [spec] "strips one leading … BOM".
      if (text.length === 0) return
      atStreamStart = false
      if (text.charCodeAt(0) === BOM) text = text.slice(1)
    }
    parseText(text)
  }

  function parseText(text: string): void {
    const length = text.length
    if (length === 0) return
    let pos = 0
    if (pendingCR) {
      pendingCR = false
      if (text.charCodeAt(0) === LF) {
        if (length === 1) return
        pos = 1
      }
    }
    let cr = text.indexOf('\r', pos)
    let lf = text.indexOf('\n', pos)

    if (pieces.length > 0) {
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf)
      if (end === -1) {
        hold(text, pos)
        return
      }
      if (piecesLength + end - pos > maxLineLength) {
        fail()
        return
      }
      pieces.push(text.slice(pos, end))
      const line = pieces.join('')
      pieces.length = 0
      piecesLength = 0
      interpret(line, 0, line.length)
      if (terminated) return
      pos = nextLineStart(text, end)
      if (cr !== -1 && cr < pos) cr = text.indexOf('\r', pos)
      if (lf !== -1 && lf < pos) lf = text.indexOf('\n', pos)
    }

    // Mixed terminators: walk the nearer of the cached CR and LF positions, rescanning only the
    // one consumed, so a lone CR far ahead is not searched for again on every line.
    while (cr !== -1) {
      const end = lf !== -1 && lf < cr ? lf : cr
      if (end - pos > maxLineLength) {
        fail()
        return
      }
      interpret(text, pos, end)
      if (terminated) return
      pos = nextLineStart(text, end)
      if (cr < pos) cr = text.indexOf('\r', pos)
      if (lf !== -1 && lf < pos) lf = text.indexOf('\n', pos)
    }

    // LF only from here on (by far the most common stream shape). The three common fields are
    // handled inline; `interpret` takes the rest.
    while (lf !== -1) {
      if (lf - pos > maxLineLength) {
        fail()
        return
      }
      const first = text.charCodeAt(pos)
      if (first === LF) {
        dispatch()
      } else if (first === 0x64 && isData(text, pos)) {
        const value = text.slice(valueStart(text, pos + 4), lf)
        if (!hasData && text.charCodeAt(lf + 1) === LF) {
          // The usual single-line event `data: …\n\n`: dispatch without touching the buffer.
          lastEventId = idBuffer
          const type = eventType === '' ? 'message' : eventType
          eventType = ''
          emit({ type, data: value, lastEventId })
          pos = lf + 2
          lf = text.indexOf('\n', pos)
          continue
        }
        appendData(value)
        if (terminated) return
      } else if (first === 0x65 && isEvent(text, pos)) {
        eventType = text.slice(valueStart(text, pos + 5), lf)
      } else if (first === 0x69 && isId(text, pos)) {
        setId(text.slice(valueStart(text, pos + 2), lf))
      } else {
        interpret(text, pos, lf)
        if (terminated) return
      }
      pos = lf + 1
      lf = text.indexOf('\n', pos)
    }

    if (pos < length) hold(text, pos)
  }

  /** Where the next line starts after the terminator at `end`; notes a CR that ends the chunk. */
  function nextLineStart(text: string, end: number): number {
    if (text.charCodeAt(end) === CR) {
      if (end + 1 === text.length) pendingCR = true
      else if (text.charCodeAt(end + 1) === LF) return end + 2
    }
    return end + 1
  }

  function hold(text: string, pos: number): void {
    const piece = pos === 0 ? text : text.slice(pos)
    piecesLength += piece.length
    // DoS guard: a peer that never sends a line terminator must not grow our memory unbounded.
    if (piecesLength > maxLineLength) {
      fail()
      return
    }
    pieces.push(piece)
  }

  /**
   * Interprets the line `text[start, end)` ([spec] §9.2.6). `text[end]` is a terminator or past
   * the end of `text`, so a prefix comparison that reaches it fails by itself.
   */
  function interpret(text: string, start: number, end: number): void {
    if (start === end) {
      dispatch()
      return
    }
    const length = end - start
    switch (text.charCodeAt(start)) {
      case COLON:
        onComment?.(text.slice(start + 1, end))
        return
      case 0x64: // d
        if (isData(text, start)) appendData(text.slice(valueStart(text, start + 4), end))
        // [spec] a line without a colon is a field name with an empty value.
        else if (length === 4 && text.startsWith('data', start)) appendData('')
        return
      case 0x65: // e
        if (isEvent(text, start)) eventType = text.slice(valueStart(text, start + 5), end)
        else if (length === 5 && text.startsWith('event', start)) eventType = ''
        return
      case 0x69: // i
        if (isId(text, start)) setId(text.slice(valueStart(text, start + 2), end))
        else if (length === 2 && text.startsWith('id', start)) setId('')
        return
      case 0x72: // r
        // A bare `retry` has an empty value, which is not "only ASCII digits": ignored.
        if (onRetry !== undefined && isRetry(text, start)) {
          const from = valueStart(text, start + 5)
          if (from < end && isAsciiDigits(text, from, end)) {
            onRetry(Number.parseInt(text.slice(from, end), 10))
          }
        }
        return
    }
    // [spec] "Otherwise: The field is ignored." Field names are compared case-sensitively.
  }

  function setId(value: string): void {
    // [spec] "If the field value does not contain U+0000 NULL, then set the last event ID buffer
    // to the field value. Otherwise, ignore the field."
    if (value.indexOf('\0') === -1) idBuffer = value
  }

  function appendData(value: string): void {
    // [spec] append the value and an LF; removing the final LF at dispatch is the same as
    // joining the lines with LF, which saves a copy.
    data = hasData ? `${data}\n${value}` : value
    hasData = true
    // DoS guard: many short lines without the blank line that ends an event.
    if (data.length > maxEventLength) fail('event-too-large')
  }

  function dispatch(): void {
    // [spec] The last event ID is set before the empty-data check, so an `id`-only block counts.
    lastEventId = idBuffer
    if (!hasData) {
      eventType = ''
      return
    }
    const message: SseMessage = {
      type: eventType === '' ? 'message' : eventType,
      data,
      lastEventId,
    }
    data = ''
    hasData = false
    eventType = ''
    emit(message)
  }

  function discardStream(): void {
    if (decoderHoldsBytes) {
      // What the decoder still holds can only become U+FFFD on an unterminated line: drop it.
      ;(streamDecoder as TextDecoder).decode()
      decoderHoldsBytes = false
    }
    pieces.length = 0
    piecesLength = 0
    pendingCR = false
    atStreamStart = true
    data = ''
    hasData = false
    eventType = ''
    idBuffer = lastEventId
  }

  function fail(code: 'line-too-long' | 'event-too-large' = 'line-too-long'): void {
    terminated = true
    discardStream()
    const message =
      code === 'line-too-long'
        ? `A line exceeded maxLineLength (${maxLineLength} characters)`
        : `An event's data exceeded maxEventLength (${maxEventLength} characters)`
    onError?.(new SseError(code, `${message}; the parser ignores further input until reset().`))
  }

  return {
    feed,
    end: discardStream,
    reset() {
      discardStream()
      terminated = false
    },
    get lastEventId() {
      return lastEventId
    },
  }
}

// Whether `text` holds `<name>:` at `i`, i.e. the line is that field with a value. Unrolled
// char-code comparisons: they run on every line, and a generic loop is ~15% slower overall.

function isData(text: string, i: number): boolean {
  return (
    text.charCodeAt(i) === 0x64 &&
    text.charCodeAt(i + 1) === 0x61 &&
    text.charCodeAt(i + 2) === 0x74 &&
    text.charCodeAt(i + 3) === 0x61 &&
    text.charCodeAt(i + 4) === COLON
  )
}

function isEvent(text: string, i: number): boolean {
  return (
    text.charCodeAt(i) === 0x65 &&
    text.charCodeAt(i + 1) === 0x76 &&
    text.charCodeAt(i + 2) === 0x65 &&
    text.charCodeAt(i + 3) === 0x6e &&
    text.charCodeAt(i + 4) === 0x74 &&
    text.charCodeAt(i + 5) === COLON
  )
}

function isId(text: string, i: number): boolean {
  return (
    text.charCodeAt(i) === 0x69 &&
    text.charCodeAt(i + 1) === 0x64 &&
    text.charCodeAt(i + 2) === COLON
  )
}

function isRetry(text: string, i: number): boolean {
  return text.startsWith('retry:', i)
}

/** The value start after the colon at `colon`: [spec] one leading space is removed, no more. */
function valueStart(text: string, colon: number): number {
  return text.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1
}

function isAsciiDigits(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i)
    if (c < 0x30 || c > 0x39) return false
  }
  return true
}

function noop(): void {}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  const limit = value ?? fallback
  if (!(Number.isSafeInteger(limit) && limit > 0) && limit !== Infinity) {
    throw new RangeError(
      `${name} must be a positive integer or Infinity, got ${limit}. ` +
        `Omit it for the default of ${fallback} characters.`,
    )
  }
  return limit
}

import type { SseError } from './errors.ts'
import { createParser, type Parser, type ParserOptions, type SseMessage } from './parse.ts'

/** Options for {@link EventSourceParserStream}: the parser's options except `onEvent`. */
export interface EventSourceParserStreamOptions extends Omit<ParserOptions, 'onEvent' | 'onError'> {
  /**
   * Called with a parse error before the stream is errored with it. Parse errors
   * (`line-too-long`, `event-too-large`) stop the parser for good (a stream cannot `reset()` it),
   * so the stream is always errored: readers see the `SseError` from `read()`. Defaults to none.
   */
  onError?: (error: SseError) => void
}

/**
 * A web-standard `TransformStream` from a `text/event-stream` body (bytes, or strings already
 * decoded) to {@link SseMessage}s, built on {@link createParser}.
 *
 * When the writable side closes, `end()` runs: an event not terminated by a blank line is
 * discarded, as the standard requires. A parse error errors the stream (like
 * eventsource-parser's stream does for `max-buffer-size-exceeded`).
 *
 * @example
 * ```ts
 * const response = await fetch(url, { headers: { accept: 'text/event-stream' } })
 * const events = response.body.pipeThrough(new EventSourceParserStream())
 * for await (const message of events) console.log(message.type, message.data)
 * ```
 */
export class EventSourceParserStream extends TransformStream<Uint8Array | string, SseMessage> {
  readonly #parser: Parser

  constructor(options: EventSourceParserStreamOptions = {}) {
    const { onError, ...parserOptions } = options
    let controller: TransformStreamDefaultController<SseMessage> | undefined
    const parser = createParser({
      ...parserOptions,
      onEvent(message) {
        controller?.enqueue(message)
      },
      onError(error) {
        onError?.(error)
        controller?.error(error)
      },
    })
    super({
      start(c) {
        controller = c
      },
      transform(chunk) {
        parser.feed(chunk)
      },
      flush() {
        parser.end()
      },
    })
    this.#parser = parser
  }

  /**
   * The last event ID string so far (see {@link Parser.lastEventId}): what a reconnecting client
   * sends as `Last-Event-ID`. Defaults to the `lastEventId` option, or `''`.
   */
  get lastEventId(): string {
    return this.#parser.lastEventId
  }
}

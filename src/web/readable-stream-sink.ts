import type { EventSink, EventStream } from '../core/event-stream.ts'

/**
 * An {@link EventSink} that feeds a web `ReadableStream`: the underlying source of an SSE
 * response's body. It gives the core stream the backpressure a Node socket gives through
 * `write()` and `'drain'`, from the stream's own queue:
 *
 * - a write that leaves the queue at or over its high-water mark (`desiredSize <= 0`: the reader,
 *   the runtime sending the body to the socket, has not taken what was enqueued) answers `false`,
 *   and the core stream holds further writes ("paused");
 * - the next `pull()`, which the `ReadableStream` calls once the reader has taken enough for
 *   `desiredSize` to be positive again, resumes it ("drained").
 *
 * So what waits for a client that does not read is bounded by the core stream's `maxQueueBytes`
 * and `stallTimeoutMs`, plus this queue's high-water mark and one hand-off (128 KiB) past it: the
 * pull-based backpressure of hono's `StreamingApi`, with the core's bounds.
 *
 * `cancel()` (the runtime stops reading: the client went away) closes the stream with
 * `client-closed`. Every method is idempotent and never throws at the core stream.
 */
export class ReadableStreamSink implements EventSink, UnderlyingDefaultSource<Uint8Array> {
  /** The stream writing here, set right after it is created. */
  stream: EventStream | null = null
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null
  #awaitingPull = false
  #done = false

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.#controller = controller
  }

  pull(): void {
    if (!this.#awaitingPull) return
    this.#awaitingPull = false
    this.stream?.resume()
  }

  cancel(): void {
    this.#done = true
    this.stream?.close('client-closed')
  }

  write(chunks: readonly Uint8Array[]): boolean {
    const controller = this.#controller
    if (this.#done || controller === null) return true
    for (const chunk of chunks) controller.enqueue(chunk)
    // `null` once the stream errored: nobody reads any more, and close() follows.
    if ((controller.desiredSize ?? 1) > 0) return true
    this.#awaitingPull = true
    return false
  }

  end(): void {
    if (this.#done) return
    this.#done = true
    try {
      this.#controller?.close()
    } catch {
      // Already closed or errored by the runtime.
    }
  }

  destroy(): void {
    if (this.#done) return
    this.#done = true
    try {
      // An errored body makes the runtime abort the response (HTTP/1.1: the connection is closed
      // without the last chunk; HTTP/2: the stream is reset), which a client takes as a network
      // error and reconnects from, never as a clean end.
      this.#controller?.error(new Error('ssehub: the event stream was cut'))
    } catch {
      // Already closed or errored by the runtime.
    }
  }
}

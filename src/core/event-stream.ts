import { encodeComment, encodeEvent, formatComment, formatRetry, type SseEvent } from './encode.ts'
import type { Heartbeat, HeartbeatTarget } from './heartbeat.ts'

/**
 * Where an {@link EventStream} writes: one HTTP response, adapted by the server layer (see
 * `server/event-stream-response.ts`). The core never sees Node objects.
 */
export interface EventSink {
  /**
   * Writes `chunks` in order, as one batch (one socket write where the transport allows).
   * Returns `false` when the transport's buffer is over its high-water mark: the stream then
   * holds further writes until {@link EventStream.resume} is called.
   */
  write(chunks: readonly Uint8Array[]): boolean
  /** Ends the response cleanly after what has been written; the client reconnects. */
  end(): void
  /** Aborts the connection at once, dropping whatever the transport still buffers. */
  destroy(): void
}

/**
 * Why a stream closed.
 * - `client-closed`: the client went away (or the connection broke).
 * - `overflow`: the client read too slowly and its queue passed `maxQueueBytes`.
 * - `server-closed`: the server ended it (shutdown, or the application called `close()`).
 * - `lifetime`: the connection reached its maximum lifetime.
 * - `expired`: the credentials the connection was opened with expired.
 * - `error`: writing to the transport failed.
 */
export type EventStreamCloseReason =
  | 'client-closed'
  | 'overflow'
  | 'server-closed'
  | 'lifetime'
  | 'expired'
  | 'error'

/** Options for {@link createEventStream}. */
export interface EventStreamOptions {
  /**
   * Upper bound, in bytes, of what one stream holds while its client is not reading. Past it the
   * client is disconnected (reason `overflow`) rather than letting memory grow without limit; it
   * reconnects with `Last-Event-ID` and catches up from history. Defaults to `1048576` (1 MiB).
   */
  maxQueueBytes?: number
  /** The shared heartbeat that sends keep-alive comments, or `null` for none. Defaults to `null`. */
  heartbeat?: Heartbeat | null
  /**
   * Text of the comment written as soon as the stream opens, so that headers and a first body
   * chunk leave at once and `EventSource.onopen` fires before any event. Defaults to `'ok'`.
   */
  openingComment?: string
  /** A `retry` (milliseconds) sent right after the opening comment, or `null`. Defaults to `null`. */
  retry?: number | null
  /** Called once when the stream closes, with the reason. */
  onClose?: EventStreamCloseListener
}

/**
 * Told once when a stream closes, with the reason and the stream itself: one function can then
 * serve every stream (a closure per stream costs memory for as long as the connection lasts).
 * Either a function or, as DOM's `EventListenerObject`, an object with `handleClose`: an object
 * that exists for each stream anyway (a hub's subscriber) then needs no closure at all.
 */
export type EventStreamCloseListener =
  | ((reason: EventStreamCloseReason, stream: EventStream) => void)
  | EventStreamCloseHandler

/** The object form of an {@link EventStreamCloseListener}. */
export interface EventStreamCloseHandler {
  /** Called once when the stream closes. */
  handleClose(reason: EventStreamCloseReason, stream: EventStream): void
}

/** The default bound of a stream's queue: 1 MiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 1_048_576

const HEARTBEAT = encodeComment()
const textEncoder = new TextEncoder()

// Nearly every stream opens with the same bytes (`: ok` and no retry): they are encoded once and
// shared. An encoded string is an off-heap buffer, and the native memory of one per connection
// stays in the process (the allocator keeps freed blocks) long after the buffer is collected.
let lastHead = ''
let lastHeadBytes: Uint8Array = new Uint8Array(0)
const encodeHead = (head: string): Uint8Array => {
  if (head !== lastHead) {
    lastHeadBytes = textEncoder.encode(head)
    lastHead = head
  }
  return lastHeadBytes
}

// Streams with queued writes, flushed together rather than each in its own microtask: updates
// dispatched in the same turn (publishes completing together) leave as one socket write per
// stream, and a fan-out schedules one callback, not one per stream.
//
// The flush goes in slices of FLUSH_SLICE streams, one slice per turn of the event loop, so that
// I/O is polled between slices. A fan-out to 10,000 subscribers then never blocks the loop for
// the ~40 ms its writes take: publishes, health checks and new subscribers are served between
// slices, and updates published meanwhile join the queues of the streams not yet flushed, so each
// socket write carries more events. Measured (bench/fan-out.bench.ts, 1,000 subscribers, memory
// store): 294k deliveries/s unsliced, 784k with slices of 128, 643k of 256, 798k of 64 but with
// p99 latency doubling; the paced latency bench's p99 went from 23.5 to 15.4 ms with 128.
const FLUSH_SLICE = 128
const dirty: Array<EventStream | undefined> = []
let dirtyHead = 0
let flushQueued = false
const flushDirty = (): void => {
  const end = Math.min(dirty.length, dirtyHead + FLUSH_SLICE)
  while (dirtyHead < end) {
    const stream = dirty[dirtyHead] as EventStream
    // Released as it runs: the array keeps no closed stream alive until the round ends.
    dirty[dirtyHead++] = undefined
    flushStream(stream)
  }
  if (dirtyHead < dirty.length) {
    scheduleFlush(flushDirty)
    return
  }
  dirty.length = 0
  dirtyHead = 0
  flushQueued = false
  lastQueue = []
  lastJoined = EMPTY
}

// A stream's queued events are joined into one buffer before they reach the sink: one write of
// the response (one chunk of HTTP/1.1 chunked coding, one iovec) instead of one per event, which
// in Node costs far more than copying a few hundred bytes. In a fan-out, the streams flushed one
// after the other usually hold the very same updates, so the join is shared like the encoding:
// made once, written to every such stream.
const EMPTY = new Uint8Array(0)
let lastQueue: readonly Uint8Array[] = []
let lastJoined: Uint8Array = EMPTY
const joined = (queue: readonly Uint8Array[], bytes: number): Uint8Array => {
  if (queue.length === lastQueue.length && queue.every((chunk, i) => chunk === lastQueue[i])) {
    return lastJoined
  }
  const buffer = new Uint8Array(bytes)
  let offset = 0
  for (const chunk of queue) {
    buffer.set(chunk, offset)
    offset += chunk.byteLength
  }
  lastQueue = queue
  lastJoined = buffer
  return buffer
}
// Set by EventStream's static block: the flush loop above reaches a stream's private #flush
// without a bound function per stream.
let flushStream: (stream: EventStream) => void
// setImmediate runs right after this turn's I/O callbacks; browsers (the core runs there too)
// have no setImmediate.
const scheduleFlush: (callback: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (callback) => {
        globalThis.setImmediate(callback)
      }
    : (callback) => {
        setTimeout(callback, 0)
      }

/**
 * The server side of one SSE connection: a bounded, coalescing, backpressure-aware writer.
 *
 * Every write made in the same turn of the event loop is queued and handed to the sink as one
 * batch at the end of the turn (streams are flushed 128 per turn, oldest first, so a large
 * fan-out yields to I/O between slices), so a burst of updates costs one socket write. When the sink reports backpressure the queue holds
 * writes until {@link resume}; if it grows past `maxQueueBytes`, the client is disconnected.
 * Writes after close are ignored and return `false` at once: they never hang (honojs/hono#1902).
 */
export class EventStream implements HeartbeatTarget {
  readonly #sink: EventSink
  readonly #maxQueueBytes: number
  readonly #heartbeat: Heartbeat | null
  // Allocated when needed: an idle stream (the common state of most of a hub's connections)
  // holds no empty arrays, and its one close listener, the usual case, needs no array either.
  #queue: Uint8Array[] | null = null
  #queuedBytes = 0
  #flushScheduled = false
  #paused = false
  #closeReason: EventStreamCloseReason | undefined
  // Two listeners (the server's and the hub's) are the usual case: they take two fields, more
  // spill into an exact-size array in the second.
  #closeListener: EventStreamCloseListener | null = null
  #moreCloseListeners: EventStreamCloseListener | EventStreamCloseListener[] | null = null
  #drainWaiters: Array<() => void> | null = null

  static {
    flushStream = (stream) => stream.#flush()
  }

  constructor(sink: EventSink, options: EventStreamOptions = {}) {
    this.#sink = sink
    this.#maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES
    if (!Number.isSafeInteger(this.#maxQueueBytes) || this.#maxQueueBytes <= 0) {
      throw new RangeError(
        `maxQueueBytes must be a positive integer of bytes, got ${options.maxQueueBytes}.`,
      )
    }
    this.#heartbeat = options.heartbeat ?? null
    if (options.onClose) this.#closeListener = options.onClose
    const opening = options.openingComment ?? 'ok'
    // The blank line after the comment ends a block that dispatches nothing.
    let head = `${formatComment(opening)}\n`
    if (options.retry != null) head += formatRetry(options.retry)
    this.write(encodeHead(head))
    this.#heartbeat?.add(this)
  }

  /** Whether the stream has closed; once closed it stays closed. */
  get closed(): boolean {
    return this.#closeReason !== undefined
  }

  /** Why the stream closed, or `undefined` while open. */
  get closeReason(): EventStreamCloseReason | undefined {
    return this.#closeReason
  }

  /** Bytes queued and not yet handed to the sink. */
  get queuedBytes(): number {
    return this.#queuedBytes
  }

  /** True while the sink has signalled backpressure and not yet drained. */
  get paused(): boolean {
    return this.#paused
  }

  /**
   * Queues already-encoded bytes (from {@link encodeEvent}), the fast path for fan-out: encode an
   * update once and write the same bytes to every subscriber. Returns `false` if the stream is
   * closed or closed now because the queue passed its bound.
   */
  write(bytes: Uint8Array): boolean {
    if (this.#closeReason !== undefined) return false
    if (this.#queue === null) this.#queue = [bytes]
    else this.#queue.push(bytes)
    this.#queuedBytes += bytes.byteLength
    if (this.#queuedBytes > this.#maxQueueBytes) {
      this.close('overflow')
      return false
    }
    if (!this.#flushScheduled && !this.#paused) {
      this.#flushScheduled = true
      dirty.push(this)
      if (!flushQueued) {
        flushQueued = true
        scheduleFlush(flushDirty)
      }
    }
    return true
  }

  /**
   * Encodes and queues one event.
   *
   * @throws {SseError} `invalid-field` for a field that could inject into the stream.
   */
  send(event: SseEvent): boolean {
    return this.write(encodeEvent(event))
  }

  /** Queues a comment (each line of `text` its own comment line). */
  comment(text = ''): boolean {
    return this.write(text === '' ? HEARTBEAT : encodeComment(text))
  }

  /** Writes a keep-alive comment; called by the shared {@link Heartbeat}. */
  heartbeat(): void {
    this.write(HEARTBEAT)
  }

  /** Tells the stream its sink has drained (Node's `'drain'`): queued writes go out now. */
  resume(): void {
    if (!this.#paused) return
    this.#paused = false
    this.#flush()
    if (!this.#paused) this.#releaseDrainWaiters()
  }

  /**
   * Resolves once the stream can take more writes without growing its queue: at once when it is
   * not paused, else on the next drain or on close. Never rejects, never hangs past close.
   */
  drained(): Promise<void> {
    if (!this.#paused || this.#closeReason !== undefined) return Promise.resolve()
    return new Promise((resolve) => {
      this.#drainWaiters ??= []
      this.#drainWaiters.push(resolve)
    })
  }

  /**
   * Registers `listener` to run once when the stream closes (at once, in a microtask, if it
   * already has). Returns a function that unregisters it.
   */
  onClose(listener: EventStreamCloseListener): () => void {
    const reason = this.#closeReason
    if (reason !== undefined) {
      queueMicrotask(() => notify(listener, reason, this))
      return () => {}
    }
    this.#setCloseListeners([...this.#closeListeners(), listener])
    return () => {
      const listeners = this.#closeListeners()
      const index = listeners.indexOf(listener)
      if (index === -1) return
      listeners.splice(index, 1)
      this.#setCloseListeners(listeners)
    }
  }

  /**
   * Closes the stream. For `server-closed`, `lifetime` and `expired` what is queued is written and
   * the response ended cleanly, so the client reconnects with its last id; for `overflow` and
   * `error` the connection is aborted and the queue dropped; for `client-closed` there is nobody
   * left to write to. Every timer, listener and queued byte of the stream is released. Idempotent.
   */
  close(reason: EventStreamCloseReason = 'server-closed'): void {
    if (this.#closeReason !== undefined) return
    this.#closeReason = reason
    this.#heartbeat?.delete(this)
    const queue = this.#queue
    this.#queue = null
    this.#queuedBytes = 0
    try {
      if (reason === 'overflow' || reason === 'error') {
        this.#sink.destroy()
      } else if (reason !== 'client-closed') {
        if (queue !== null) this.#sink.write(queue)
        this.#sink.end()
      }
    } catch {
      // The transport is already gone; closing is all that was asked.
    }
    this.#releaseDrainWaiters()
    const listeners = this.#closeListeners()
    this.#closeListener = null
    this.#moreCloseListeners = null
    for (const listener of listeners) notify(listener, reason, this)
  }

  #closeListeners(): EventStreamCloseListener[] {
    const first = this.#closeListener
    const more = this.#moreCloseListeners
    if (first === null) return []
    if (more === null) return [first]
    return Array.isArray(more) ? [first, ...more] : [first, more]
  }

  #setCloseListeners(listeners: readonly EventStreamCloseListener[]): void {
    this.#closeListener = listeners[0] ?? null
    // slice() allocates the exact length; a pushed-to array reserves room for 17 entries.
    this.#moreCloseListeners =
      listeners.length < 2
        ? null
        : listeners.length === 2
          ? (listeners[1] ?? null)
          : listeners.slice(1)
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters
    this.#drainWaiters = null
    if (waiters !== null) for (const waiter of waiters) waiter()
  }

  #flush(): void {
    this.#flushScheduled = false
    const queue = this.#queue
    if (this.#closeReason !== undefined || this.#paused || queue === null) return
    const bytes = this.#queuedBytes
    this.#queue = null
    this.#queuedBytes = 0
    let accepted: boolean
    try {
      accepted = this.#sink.write(queue.length === 1 ? queue : [joined(queue, bytes)])
    } catch {
      this.close('error')
      return
    }
    if (!accepted) this.#paused = true
  }
}

function notify(
  listener: EventStreamCloseListener,
  reason: EventStreamCloseReason,
  stream: EventStream,
): void {
  if (typeof listener === 'function') listener(reason, stream)
  else listener.handleClose(reason, stream)
}

/** Creates an {@link EventStream} writing to `sink`. */
export function createEventStream(sink: EventSink, options?: EventStreamOptions): EventStream {
  return new EventStream(sink, options)
}

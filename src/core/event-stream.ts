import { DEFAULT_MAX_QUEUE_BYTES, DEFAULT_STALL_TIMEOUT_MS } from './defaults.ts'
import { encodeComment, encodeEvent, type SseEvent } from './encode.ts'
import { FlushRound } from './flush-round.ts'
import type { Heartbeat, HeartbeatTarget } from './heartbeat.ts'
import { forgetJoin, joinChunks } from './join-chunks.ts'
import { openingBytes } from './opening-bytes.ts'

/**
 * Where an {@link EventStream} writes: one HTTP response, adapted by the HTTP adapters (see
 * `http/event-stream-response.ts`). The core never sees Node objects.
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
 * - `overflow`: the client took less than was written for it while its transport refused more,
 *   by over `maxQueueBytes` (see {@link EventStreamOptions.maxQueueBytes}).
 * - `stalled`: data was waiting and the client took none of it for `stallTimeoutMs`.
 * - `server-closed`: the server ended it (shutdown, or the application called `close()`).
 * - `lifetime`: the connection reached its maximum lifetime.
 * - `expired`: the credentials the connection was opened with expired.
 * - `error`: writing to the transport failed.
 */
export type EventStreamCloseReason =
  | 'client-closed'
  | 'overflow'
  | 'stalled'
  | 'server-closed'
  | 'lifetime'
  | 'expired'
  | 'error'

/** Options for {@link createEventStream}. */
export interface EventStreamOptions {
  /**
   * Bound, in bytes, of what the client failed to take: the bytes written for it while its
   * transport refused more (Node's `write()` returned `false`), less what it took since. Past it
   * the client is disconnected (reason `overflow`) rather than letting memory grow without
   * limit; it reconnects with `Last-Event-ID` and catches up from history.
   *
   * What is written while the transport accepts (a burst produced in one turn of the event loop,
   * of any size) never counts: it is handed to the transport as fast as the client reads it, so
   * a client that reads is never cut for the size of a burst. Defaults to `1048576` (1 MiB).
   */
  maxQueueBytes?: number
  /**
   * Milliseconds a client may take nothing while data waits for it (its transport refused more
   * and has not drained since) before it is disconnected (reason `stalled`), as Mercure's
   * dispatch timeout does: a client that stopped reading is cut even if nothing more is
   * written to it. Checked by one shared timer, four times a second, only while a stream waits.
   * `null` never cuts for that. Defaults to `30000`.
   */
  stallTimeoutMs?: number | null
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

/**
 * Most bytes handed to the transport in one write (a lone larger chunk goes whole). The rest stays
 * queued until the transport drains, so the transport never holds more than one piece beyond its
 * high-water mark, and a client that reads sees a drain every piece: that drain is the progress
 * the stall timeout watches. Small enough that a piece joined for one stream (a copy) costs
 * little, large enough that a replay (which lets 64 KiB and one update wait, see
 * `hub/replay-pacing.ts`) leaves in one write: splitting it in two cost a sixth of a catch-up's
 * CPU (bench/catch-up.bench.ts).
 */
const HANDOFF_BYTES = 131_072

const HEARTBEAT = encodeComment()

/** Streams per turn of a flush round (see flush-round.ts). */
const FLUSH_SLICE = 128
const flushRound = new FlushRound<EventStream>(
  (stream) => flushStream(stream),
  forgetJoin,
  FLUSH_SLICE,
)

/**
 * Starts now, with its first slice, a flush of the stream writes that this turn queued (see
 * `FlushRound.runNow`): for a store that commits at the end of the turn, see
 * `storage/end-of-turn.ts`.
 */
export function flushQueuedStreams(): void {
  flushRound.runNow()
}

// Set by EventStream's static block: the flush reaches #flush with no bound function per stream.
let flushStream: (stream: EventStream) => void
// Streams whose transport refused a write and has not drained since. One timer for all of them
// (a timer per connection costs memory and wake-ups, as for heartbeats), running only while one
// waits: STALL_CHECK_MS is the granularity of the stall timeout.
const STALL_CHECK_MS = 250
const waiting = new Set<EventStream>()
let stallTimer: ReturnType<typeof setInterval> | undefined
// Set by EventStream's static block, like flushStream.
let checkStall: (stream: EventStream, now: number) => void
const sweepStalled = (): void => {
  const now = Date.now()
  for (const stream of waiting) checkStall(stream, now)
  if (waiting.size === 0 && stallTimer !== undefined) {
    clearInterval(stallTimer)
    stallTimer = undefined
  }
}
const watchStall = (stream: EventStream): void => {
  waiting.add(stream)
  if (stallTimer === undefined) {
    stallTimer = setInterval(sweepStalled, STALL_CHECK_MS)
    // Housekeeping: it must not keep an otherwise finished process alive.
    ;(stallTimer as { unref?: () => void }).unref?.()
  }
}

/**
 * The server side of one SSE connection: a bounded, coalescing, backpressure-aware writer.
 *
 * Every write made in the same turn of the event loop is queued and handed to the sink as one
 * batch at the end of the turn (streams are flushed 128 per turn, oldest first, so a large
 * fan-out yields to I/O between slices), so a burst of updates costs one socket write. Large
 * queues go in pieces of 128 KiB, the next one when the transport drains.
 *
 * Backpressure cuts only clients that do not read: when the transport refuses more, the queue
 * holds further writes until {@link resume}; the client is disconnected when what was written
 * for it while the transport refused, less what it took since, passes `maxQueueBytes`
 * (`overflow`), or when it took nothing for `stallTimeoutMs` while data waited (`stalled`).
 * Writes after close are ignored and return `false` at once: they never hang (honojs/hono#1902).
 */
export class EventStream implements HeartbeatTarget {
  readonly #sink: EventSink
  readonly #maxQueueBytes: number
  readonly #stallTimeoutMs: number | null
  readonly #heartbeat: Heartbeat | null
  // Allocated when needed: an idle stream (the common state of most of a hub's connections)
  // holds no empty arrays, and its one close listener, the usual case, needs no array either.
  #queue: Uint8Array[] | null = null
  /** Index of the first chunk of #queue not yet handed to the sink. */
  #queueStart = 0
  #queuedBytes = 0
  /** Bytes written while the transport refused, less what was handed to it since. */
  #deficit = 0
  /** When the transport last refused or drained while still refusing (ms since the epoch). */
  #waitingSince = 0
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
    checkStall = (stream, now) => {
      if (!stream.#paused || stream.#closeReason !== undefined) {
        waiting.delete(stream)
        return
      }
      const timeout = stream.#stallTimeoutMs
      if (timeout !== null && now - stream.#waitingSince >= timeout) stream.close('stalled')
    }
  }

  constructor(sink: EventSink, options: EventStreamOptions = {}) {
    this.#sink = sink
    this.#maxQueueBytes = options.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES
    if (!Number.isSafeInteger(this.#maxQueueBytes) || this.#maxQueueBytes <= 0) {
      throw new RangeError(
        `maxQueueBytes must be a positive integer of bytes, got ${options.maxQueueBytes}.`,
      )
    }
    const stall =
      options.stallTimeoutMs === undefined ? DEFAULT_STALL_TIMEOUT_MS : options.stallTimeoutMs
    if (stall !== null && !(Number.isFinite(stall) && stall > 0)) {
      throw new RangeError(
        `stallTimeoutMs must be a positive number of milliseconds or null, got ${stall}.`,
      )
    }
    this.#stallTimeoutMs = stall
    this.#heartbeat = options.heartbeat ?? null
    if (options.onClose) this.#closeListener = options.onClose
    this.write(openingBytes(options.openingComment ?? 'ok', options.retry))
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

  /** The `maxQueueBytes` the stream was made with. */
  get maxQueueBytes(): number {
    return this.#maxQueueBytes
  }

  /** True while the sink has signalled backpressure and not yet drained. */
  get paused(): boolean {
    return this.#paused
  }

  /**
   * Queues already-encoded bytes (from {@link encodeEvent}), the fast path for fan-out: encode an
   * update once and write the same bytes to every subscriber. Returns `false` if the stream is
   * closed or closed now because the client failed to take more than `maxQueueBytes`.
   */
  write(bytes: Uint8Array): boolean {
    if (this.#closeReason !== undefined) return false
    if (this.#queue === null) this.#queue = [bytes]
    else this.#queue.push(bytes)
    this.#queuedBytes += bytes.byteLength
    if (this.#paused) {
      this.#deficit += bytes.byteLength
      if (this.#deficit > this.#maxQueueBytes) {
        this.close('overflow')
        return false
      }
    }
    if (!this.#flushScheduled && !this.#paused) {
      this.#flushScheduled = true
      flushRound.add(this)
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
    if (this.#paused) {
      // Refused again, but the client took a whole piece since: that is progress.
      this.#waitingSince = Date.now()
      return
    }
    waiting.delete(this)
    this.#releaseDrainWaiters()
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
    // The first two listeners (the usual server and hub) take their fields with no array made.
    if (this.#closeListener === null) this.#closeListener = listener
    else if (this.#moreCloseListeners === null) this.#moreCloseListeners = listener
    else this.#setCloseListeners([...this.#closeListeners(), listener])
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
    waiting.delete(this)
    const queue = this.#queue === null ? null : this.#queue.slice(this.#queueStart)
    this.#queue = null
    this.#queueStart = 0
    this.#queuedBytes = 0
    this.#deficit = 0
    try {
      if (reason === 'overflow' || reason === 'stalled' || reason === 'error') {
        this.#sink.destroy()
      } else if (reason !== 'client-closed') {
        if (queue !== null && queue.length > 0) this.#sink.write(queue)
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
    while (this.#queue !== null && this.#closeReason === undefined && !this.#paused) {
      const queue = this.#queue
      let piece: Uint8Array[]
      let bytes: number
      if (this.#queueStart === 0 && this.#queuedBytes <= HANDOFF_BYTES) {
        // The usual case (and a fan-out's): all of it, in one write.
        piece = queue
        bytes = this.#queuedBytes
      } else {
        // A large queue goes a piece at a time, the next one when the transport drains.
        let end = this.#queueStart
        bytes = 0
        do {
          bytes += (queue[end] as Uint8Array).byteLength
          end++
        } while (
          end < queue.length &&
          bytes + (queue[end] as Uint8Array).byteLength <= HANDOFF_BYTES
        )
        piece = queue.slice(this.#queueStart, end)
        this.#queueStart = end
      }
      if (piece === queue || this.#queueStart === queue.length) {
        this.#queue = null
        this.#queueStart = 0
      }
      this.#queuedBytes -= bytes
      this.#deficit = Math.max(0, this.#deficit - bytes)
      let accepted: boolean
      try {
        accepted = this.#sink.write(piece.length === 1 ? piece : [joinChunks(piece, bytes)])
      } catch {
        this.close('error')
        return
      }
      if (!accepted) {
        this.#paused = true
        this.#waitingSince = Date.now()
        if (this.#stallTimeoutMs !== null) watchStall(this)
      }
    }
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

// Timeouts of one duration for many short waits at once (the deadline of every request body being
// read) on one shared timer, where each publish set and cleared a timer of its own: Node allocates
// a Timeout object, reads libuv's clock and links it into a list for each, 700 ns a pair in a loop
// against 148 ns for a Set insertion and deletion here (issue #15; from outside, below the noise).
//
// The timer ticks every `ms / slices` (rounded up to a whole millisecond) while any wait is
// pending, and stops when none is. A wait joins the slice of the current tick and fires on the tick
// `slices + 1` later: after at least `ms` and at most one tick more (later still when the event loop
// is late). Never early: a body that arrives within its timeout is never refused for it.

/** Where {@link CoarseTimeouts.add} put a wait: what {@link CoarseTimeouts.delete} takes. */
export type TimeoutSlot = { readonly __timeoutSlot: never }

/** Options for {@link CoarseTimeouts}. */
export interface CoarseTimeoutsOptions {
  /** The timeout, in milliseconds: no wait fires before it. */
  ms: number
  /** Ticks per timeout: a wait fires at most a tick, `ms / slices` rounded up, late. Defaults to `4`. */
  slices?: number
}

/** Waits of {@link CoarseTimeoutsOptions.ms} sharing one timer. */
export class CoarseTimeouts {
  readonly ms: number
  readonly #tickMs: number
  /** A ring of `slices + 1` slices; `#current` takes the waits added now. */
  readonly #slices: Set<() => void>[]
  #current = 0
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(options: CoarseTimeoutsOptions) {
    const slices = options.slices ?? 4
    if (!(options.ms > 0) || !Number.isFinite(options.ms)) {
      throw new RangeError(`ms must be a positive number of milliseconds, got ${options.ms}`)
    }
    if (!Number.isSafeInteger(slices) || slices < 1) {
      throw new RangeError(`slices must be a positive integer, got ${slices}`)
    }
    this.ms = options.ms
    // Whole milliseconds, rounded up: Node runs a fractional interval early, at its floor.
    this.#tickMs = Math.ceil(options.ms / slices)
    this.#slices = Array.from({ length: slices + 1 }, () => new Set<() => void>())
  }

  /** Calls `onTimeout` once the timeout has passed, unless {@link delete}d before. */
  add(onTimeout: () => void): TimeoutSlot {
    if (this.#timer === undefined) {
      // Not unref'd: like the timer of each wait before, it keeps the process alive while a wait
      // is pending, and it stops when none is.
      this.#timer = setInterval(this.#tick, this.#tickMs)
    }
    const slice = this.#slices[this.#current] as Set<() => void>
    slice.add(onTimeout)
    return slice as unknown as TimeoutSlot
  }

  /** Forgets a wait that ended in time. */
  delete(slot: TimeoutSlot, onTimeout: () => void): void {
    ;(slot as unknown as Set<() => void>).delete(onTimeout)
  }

  /** Waits pending. */
  get size(): number {
    let size = 0
    for (const slice of this.#slices) size += slice.size
    return size
  }

  readonly #tick = (): void => {
    // The slice after the current one is the oldest: its waits joined `slices + 1` ticks ago,
    // at least `ms` ago. It fires, and takes the waits of the tick that begins.
    this.#current = (this.#current + 1) % this.#slices.length
    const due = this.#slices[this.#current] as Set<() => void>
    if (due.size > 0) {
      // A copy: a callback may add a wait, which joins this very slice (now the current one) and
      // must wait its whole timeout, not be visited by this loop.
      const callbacks = [...due]
      due.clear()
      for (const onTimeout of callbacks) onTimeout()
    }
    if (this.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
    }
  }
}

const shared = new Map<number, CoarseTimeouts>()

/** The process's {@link CoarseTimeouts} of `ms`, made on first use. */
export function coarseTimeouts(ms: number): CoarseTimeouts {
  let timeouts = shared.get(ms)
  if (timeouts === undefined) {
    timeouts = new CoarseTimeouts({ ms })
    shared.set(ms, timeouts)
  }
  return timeouts
}

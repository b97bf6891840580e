import { DEFAULT_HEALTHY_AFTER_MS, DEFAULT_MAX_RETRY_MS, DEFAULT_RETRY_MS } from './defaults.ts'

/** Options for {@link createBackoff}. Every option is optional. */
export interface BackoffOptions {
  /**
   * The base delay in milliseconds: the ceiling of the first retry, doubled on each further
   * failure. A server's `retry:` field replaces it (see {@link Backoff.baseMs}). Defaults to
   * `3000`, the reconnection time of the `eventsource` package.
   */
  baseMs?: number
  /**
   * The cap on the exponential growth, in milliseconds. A base larger than the cap (a server asking
   * for a long `retry`) is honoured as it is: the cap limits the growth, never the server's wish.
   * Defaults to `30_000`.
   */
  maxMs?: number
  /**
   * How long a connection must stay open, in milliseconds, for the next failure to count as the
   * first again. Defaults to `10_000`.
   */
  healthyAfterMs?: number
  /**
   * Full jitter: each delay is drawn uniformly from `[0, ceiling)` rather than being the ceiling,
   * so clients dropped together (a hub restart) do not come back together. Defaults to `true`.
   */
  jitter?: boolean
  /** The random source, returning a number in `[0, 1)`. Defaults to `Math.random`. */
  random?: () => number
  /** The clock, in milliseconds. Defaults to `Date.now`. */
  now?: () => number
}

/** Reconnection delays: exponential with full jitter, capped, reset after a healthy period. */
export interface Backoff {
  /** The current base delay in milliseconds. Set it to honour a server's `retry:` field. */
  baseMs: number
  /** How many delays were handed out since the last reset. */
  readonly attempt: number
  /** Notes that a connection has just opened; see {@link BackoffOptions.healthyAfterMs}. */
  opened(): void
  /**
   * The delay before the next reconnection, in milliseconds, and a step up the exponential
   * ladder. If the connection noted by `opened()` lived at least `healthyAfterMs`, the ladder is
   * reset first. Without jitter the delay is `min(max(cap, base), base · 2^attempt)`.
   */
  next(): number
  /** Starts the ladder over: the next delay is drawn from `[0, base)` again. */
  reset(): void
}

/** `setTimeout` turns delays above 2³¹−1 ms into 1 ms: never hand it one. */
export const MAX_TIMER_MS = 2_147_483_647

/**
 * Creates the reconnection backoff of an {@link SseClient}. Exposed so that other transports (a
 * connection shared between tabs, say) pace their retries the same way.
 *
 * @throws {RangeError} when a duration is negative or not a finite number.
 */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  let baseMs = checkDuration('baseMs', options.baseMs ?? DEFAULT_RETRY_MS)
  const maxMs = checkDuration('maxMs', options.maxMs ?? DEFAULT_MAX_RETRY_MS)
  const healthyAfterMs = checkDuration(
    'healthyAfterMs',
    options.healthyAfterMs ?? DEFAULT_HEALTHY_AFTER_MS,
  )
  const jitter = options.jitter ?? true
  const random = options.random ?? Math.random
  const now = options.now ?? Date.now
  let attempt = 0
  let openedAt: number | null = null

  return {
    get baseMs() {
      return baseMs
    },
    set baseMs(value: number) {
      baseMs = checkDuration('baseMs', value)
    },
    get attempt() {
      return attempt
    },
    opened() {
      openedAt = now()
    },
    next() {
      if (openedAt !== null && now() - openedAt >= healthyAfterMs) attempt = 0
      openedAt = null
      // 2^attempt overflows to Infinity after ~1000 failures; min() keeps the ceiling finite.
      const ceiling = Math.min(Math.max(maxMs, baseMs), baseMs * 2 ** attempt, MAX_TIMER_MS)
      attempt++
      return jitter ? Math.floor(random() * ceiling) : ceiling
    },
    reset() {
      attempt = 0
      openedAt = null
    },
  }
}

function checkDuration(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) {
    throw new RangeError(`${name} must be a non-negative number of milliseconds, got ${value}.`)
  }
  return value
}

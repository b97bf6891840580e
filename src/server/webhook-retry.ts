/**
 * When a webhook delivery that failed is tried again: exponential backoff with jitter, capped,
 * and the receiver's `Retry-After` honoured within bounds.
 */
export interface RetryTiming {
  /** Delay before the first retry, in milliseconds; each further one doubles it. */
  readonly minBackoffMs: number
  /** Longest delay between two attempts, in milliseconds. */
  readonly maxBackoffMs: number
  /** Longest `Retry-After` honoured, in milliseconds: a longer one is cut to it. */
  readonly maxRetryAfterMs: number
}

/**
 * The delay before attempt `failures + 1`, in milliseconds: `minBackoffMs × 2^(failures − 1)`,
 * capped at `maxBackoffMs`, then drawn in its upper half ("equal jitter": `random` gives `[0, 1)`),
 * so lanes and nodes that failed together do not retry together, yet never retry sooner than
 * half the step.
 */
export function backoffDelay(failures: number, timing: RetryTiming, random = Math.random): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30)
  const step = Math.min(timing.maxBackoffMs, timing.minBackoffMs * 2 ** exponent)
  return Math.round(step / 2 + (step / 2) * random())
}

/**
 * A `Retry-After` header (delay-seconds or an HTTP-date, RFC 9110 §10.2.3) as milliseconds from
 * `now`, within `[minBackoffMs, maxRetryAfterMs]`; `undefined` when absent or unreadable. The
 * floor is a DoS guard: a receiver answering `Retry-After: 0` to every request would otherwise
 * make the hub retry in a hot loop; the ceiling keeps a typo (`Retry-After: 86400`) from parking
 * a lane for a day.
 */
export function retryAfterDelay(
  header: string | null,
  timing: RetryTiming,
  now = Date.now(),
): number | undefined {
  if (header === null) return undefined
  const text = header.trim()
  let ms: number
  if (/^\d+$/.test(text)) ms = Number(text) * 1000
  else {
    // [spec] RFC 9110 §5.6.7: an HTTP-date is in GMT. V8's Date.parse takes far more ("1.5").
    if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(text)) return undefined
    const date = Date.parse(text)
    if (Number.isNaN(date)) return undefined
    ms = date - now
  }
  return Math.min(timing.maxRetryAfterMs, Math.max(timing.minBackoffMs, ms))
}

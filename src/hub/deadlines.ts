/** Options for {@link createDeadlines}. */
export interface DeadlinesOptions<T> {
  /** Called once for each item whose deadline has come. */
  onExpire: (item: T) => void
  /** Milliseconds between two sweeps; an item expires at most this much early, never late. Defaults to `500`. */
  resolutionMs?: number
  /** The clock, for tests. Defaults to `Date.now`. */
  now?: () => number
}

/** A set of items, each with a deadline, swept by one shared timer. */
export interface Deadlines<T> {
  /** Schedules `item` to expire at `deadline` (ms since the epoch); replaces an earlier schedule. */
  set(item: T, deadline: number): void
  /** Forgets `item`. */
  delete(item: T): void
  /** Items scheduled. */
  readonly size: number
}

/**
 * Deadlines for many connections (maximum lifetime, token expiry) from one timer: a timer per
 * connection costs memory and wake-ups that grow with the audience. Items sit in one-second
 * buckets; the sweep closes every bucket whose second has begun within `resolutionMs` from now,
 * so an item may go up to a second and a half early but never late: [spec] the hub "MUST close
 * the connection" at the token's `exp`.
 */
export function createDeadlines<T>(options: DeadlinesOptions<T>): Deadlines<T> {
  const resolution = options.resolutionMs ?? 500
  const now = options.now ?? Date.now
  const buckets = new Map<number, Set<T>>()
  const bucketOf = new Map<T, number>()
  let timer: ReturnType<typeof setInterval> | undefined
  let swept = Math.floor(now() / 1000) - 1

  const sweep = (): void => {
    const until = Math.floor((now() + resolution) / 1000)
    // Walk second by second from where the last sweep stopped; when the process slept a long
    // time, jump over empty seconds through the bucket keys instead.
    if (until - swept > buckets.size + 60) {
      for (const second of [...buckets.keys()].sort((a, b) => a - b)) {
        if (second > until) break
        expire(second)
      }
    } else {
      for (let second = swept + 1; second <= until; second++) expire(second)
    }
    swept = until
  }

  const expire = (second: number): void => {
    const bucket = buckets.get(second)
    if (bucket === undefined) return
    buckets.delete(second)
    for (const item of bucket) {
      bucketOf.delete(item)
      options.onExpire(item)
    }
    stopIfIdle()
  }

  const stopIfIdle = (): void => {
    if (bucketOf.size === 0 && timer !== undefined) {
      clearInterval(timer)
      timer = undefined
    }
  }

  const remove = (item: T): void => {
    const second = bucketOf.get(item)
    if (second === undefined) return
    bucketOf.delete(item)
    const bucket = buckets.get(second)
    bucket?.delete(item)
    if (bucket?.size === 0) buckets.delete(second)
  }

  return {
    get size() {
      return bucketOf.size
    },
    set(item, deadline) {
      remove(item)
      const second = Math.max(Math.floor(deadline / 1000), swept + 1)
      let bucket = buckets.get(second)
      if (bucket === undefined) {
        bucket = new Set()
        buckets.set(second, bucket)
      }
      bucket.add(item)
      bucketOf.set(item, second)
      if (timer === undefined) {
        swept = Math.min(swept, Math.floor(now() / 1000) - 1)
        timer = setInterval(sweep, resolution)
        ;(timer as { unref?: () => void }).unref?.()
      }
      // A deadline already due goes at the next sweep, not a whole interval later.
      if (deadline <= now() + resolution) queueMicrotask(sweep)
    },
    delete(item) {
      remove(item)
      stopIfIdle()
    },
  }
}

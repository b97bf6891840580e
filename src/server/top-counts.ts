/** One entry of {@link TopCounts.top}. */
export interface TopCount {
  readonly key: string
  readonly count: number
}

/**
 * Approximate heaviest hitters in bounded memory (the Space-Saving algorithm of Metwally,
 * Agrawal and El Abbadi, 2005): at most `capacity` keys are kept; a new key past it takes the
 * place of the least counted one and inherits its count, so a key counted more than
 * total / capacity times is always kept, and counts are over-estimates by at most that minimum.
 *
 * Memory DoS guard: publishers choose topics freely, and a flood of distinct ones must not grow
 * the map. Keys are cut to `maxKeyLength` characters for the same reason.
 */
export class TopCounts {
  readonly #capacity: number
  readonly #maxKeyLength: number
  readonly #counts = new Map<string, number>()

  /**
   * @param capacity Most keys kept. Defaults to `128`.
   * @param maxKeyLength Longest key kept, in UTF-16 code units; longer ones are cut (with `…`).
   *   Defaults to `200`.
   */
  constructor(capacity = 128, maxKeyLength = 200) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a whole number of at least 1, got ${capacity}.`)
    }
    this.#capacity = capacity
    this.#maxKeyLength = maxKeyLength
  }

  /** Keys counted now: never more than the capacity. */
  get size(): number {
    return this.#counts.size
  }

  /** Counts `key` `by` times (default once). */
  add(key: string, by = 1): void {
    const kept = key.length > this.#maxKeyLength ? `${key.slice(0, this.#maxKeyLength)}…` : key
    const count = this.#counts.get(kept)
    if (count !== undefined) {
      this.#counts.set(kept, count + by)
      return
    }
    if (this.#counts.size < this.#capacity) {
      this.#counts.set(kept, by)
      return
    }
    // O(capacity) per new key once full: a bounded cost, paid only by keys not already kept.
    let minKey = ''
    let min = Number.POSITIVE_INFINITY
    for (const [candidate, candidateCount] of this.#counts) {
      if (candidateCount < min) {
        min = candidateCount
        minKey = candidate
      }
    }
    this.#counts.delete(minKey)
    this.#counts.set(kept, min + by)
  }

  /** The `n` most counted keys, most first (ties in insertion order). */
  top(n: number): TopCount[] {
    return [...this.#counts]
      .map(([key, count]) => ({ key, count }))
      .sort((a, b) => b.count - a.count)
      .slice(0, n)
  }

  /** Forgets every key. */
  clear(): void {
    this.#counts.clear()
  }
}

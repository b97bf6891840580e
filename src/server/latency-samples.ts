/**
 * Durations of one interval in bounded memory: the first `capacity` are kept, then each later
 * one replaces a random kept one with probability capacity / seen (reservoir sampling, Vitter's
 * algorithm R), so the percentiles stay those of a uniform sample however many there were.
 */
export class LatencySamples {
  readonly #capacity: number
  readonly #random: () => number
  readonly #values: number[] = []
  #seen = 0

  /**
   * @param capacity Most durations kept. Defaults to `2048`.
   * @param random A uniform random number in [0, 1). Defaults to `Math.random`.
   */
  constructor(capacity = 2048, random: () => number = Math.random) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity must be a whole number of at least 1, got ${capacity}.`)
    }
    this.#capacity = capacity
    this.#random = random
  }

  /** Durations added since the last `clear()`, kept or not. */
  get seen(): number {
    return this.#seen
  }

  /** Durations kept: at most the capacity. */
  get kept(): number {
    return this.#values.length
  }

  /** Adds one duration. */
  add(value: number): void {
    this.#seen++
    if (this.#values.length < this.#capacity) {
      this.#values.push(value)
      return
    }
    const slot = Math.floor(this.#random() * this.#seen)
    if (slot < this.#capacity) this.#values[slot] = value
  }

  /**
   * The nearest-rank percentiles (each `q` in (0, 1]: the smallest kept value with at least
   * q × kept values at or below it), or `null`s when nothing was added.
   */
  quantiles(qs: readonly number[]): (number | null)[] {
    if (this.#values.length === 0) return qs.map(() => null)
    const sorted = Float64Array.from(this.#values).sort()
    return qs.map((q) => {
      const rank = Math.max(1, Math.ceil(q * sorted.length))
      return sorted[Math.min(rank, sorted.length) - 1] as number
    })
  }

  /** Forgets every duration. */
  clear(): void {
    this.#values.length = 0
    this.#seen = 0
  }
}

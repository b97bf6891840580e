/** Options of {@link AnnounceBudget}. */
export interface AnnounceBudgetOptions {
  /** Events one client address earns per second. Must be positive. */
  perSecond: number
  /** Events one client address may spend at once (and at most what a full budget holds). */
  burst: number
  /**
   * Client addresses tracked at once: past it, the budgets that are full again are forgotten
   * (they equal a fresh one), then the oldest. Defaults to `10000`.
   */
  maxAddresses?: number
  /** The clock, in milliseconds. Defaults to `performance.now`. */
  now?: () => number
}

interface Bucket {
  tokens: number
  at: number
}

/**
 * A token bucket per client address for subscription events: DoS guard against a client that
 * reconnects in a loop with many selectors to flood the watchers of the subscriptions topic. An
 * IPv6 client counts by its /64, the block one host typically holds, so that it cannot rotate
 * addresses to get a fresh budget each time.
 */
export class AnnounceBudget {
  readonly #perMs: number
  readonly #burst: number
  readonly #maxAddresses: number
  readonly #now: () => number
  readonly #buckets = new Map<string, Bucket>()

  /** Throws a `RangeError` for a rate or burst that is not a positive number. */
  constructor(options: AnnounceBudgetOptions) {
    const { perSecond, burst } = options
    if (!(perSecond > 0 && Number.isFinite(perSecond))) {
      throw new RangeError(`perSecond must be a positive number of events, got ${perSecond}.`)
    }
    if (!(burst >= 1 && Number.isFinite(burst))) {
      throw new RangeError(`burst must be a number of events of at least 1, got ${burst}.`)
    }
    this.#perMs = perSecond / 1000
    this.#burst = burst
    this.#maxAddresses = options.maxAddresses ?? 10_000
    this.#now = options.now ?? (() => performance.now())
  }

  /**
   * Spends `cost` events of `address`'s budget and answers `true`, or spends nothing and answers
   * `false` when the budget holds less. A cost above the burst costs the whole burst: a full
   * budget always lets one connection be announced, however many selectors it announces.
   */
  take(address: string | undefined, cost: number): boolean {
    const key = addressKey(address)
    const now = this.#now()
    let bucket = this.#buckets.get(key)
    if (bucket === undefined) {
      if (this.#buckets.size >= this.#maxAddresses) this.#forget(now)
      bucket = { tokens: this.#burst, at: now }
      this.#buckets.set(key, bucket)
    } else {
      bucket.tokens = Math.min(this.#burst, bucket.tokens + (now - bucket.at) * this.#perMs)
      bucket.at = now
    }
    const spent = Math.min(cost, this.#burst)
    if (bucket.tokens < spent) return false
    bucket.tokens -= spent
    return true
  }

  /** How many client addresses are tracked (for tests). */
  get size(): number {
    return this.#buckets.size
  }

  /** Makes room: forgets full budgets, then the oldest ones, down to 90 % of the bound. */
  #forget(now: number): void {
    const target = Math.floor(this.#maxAddresses * 0.9)
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#perMs >= this.#burst) this.#buckets.delete(key)
    }
    for (const key of this.#buckets.keys()) {
      if (this.#buckets.size <= target) break
      this.#buckets.delete(key)
    }
  }
}

/**
 * The budget key of a client address: an IPv4 address as it is (also when IPv4-mapped, as Node
 * reports it on a dual-stack socket), an IPv6 address by its first 64 bits, `''` when unknown.
 */
export function addressKey(address: string | undefined): string {
  if (address === undefined || address === '') return ''
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped !== null) return mapped[1] as string
  if (!address.includes(':')) return address
  // A zone (`fe80::1%eth0`) names the interface, not the host.
  const bare = address.split('%', 1)[0] as string
  const [head = '', tail] = bare.split('::', 2)
  const left = head === '' ? [] : head.split(':')
  const right = tail === undefined || tail === '' ? [] : tail.split(':')
  const zeros = Math.max(0, 8 - left.length - right.length)
  const groups = tail === undefined ? left : [...left, ...Array<string>(zeros).fill('0'), ...right]
  return `${groups
    .slice(0, 4)
    .map((group) => (Number.parseInt(group, 16) || 0).toString(16))
    .join(':')}::/64`
}

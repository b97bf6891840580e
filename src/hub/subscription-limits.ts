/**
 * The hub-wide limits a new subscription is checked against, all at once and synchronously with
 * its registration: the template budgets of the index (what every publish pays for the distinct
 * URI templates subscribed to) and the caps on subscriptions open at once per client address and
 * per token. DoS guard: without them one client, within every per-subscription bound, could slow
 * every publish a hundredfold (2,000 connections of 24 costly templates each) or hold all of the
 * hub's connections.
 *
 * @module
 */

import { addressKey } from './announce-budget.ts'
import { describeTemplateExcess, type TemplateBudgetExcess } from './template-budget.ts'

/** Which limit refused a subscription. */
export type SubscriptionLimit =
  | 'template-work'
  | 'template-states'
  | 'subscriptions-per-address'
  | 'subscriptions-per-token'

/**
 * Seconds a refused client is told to wait (`Retry-After`): room comes back only as other
 * subscriptions close, which at the latest happens at their `maxLifetimeMs`.
 */
const LIMIT_RETRY_AFTER_SECONDS = 30

/** A subscription refused by a hub-wide limit: answer 429 with `Retry-After` and the message. */
export class SubscriptionLimitError extends Error {
  readonly limit: SubscriptionLimit
  /** Seconds to send as `Retry-After`. */
  readonly retryAfterSeconds = LIMIT_RETRY_AFTER_SECONDS

  constructor(limit: SubscriptionLimit, message: string) {
    super(message)
    this.name = 'SubscriptionLimitError'
    this.limit = limit
  }
}

/** One client's (one address's, one token's) count of open subscriptions. */
export interface ClientTally {
  readonly key: string
  open: number
}

/** What one admitted subscription counts against, to hand back when it closes. */
export interface SubscriptionTally {
  readonly address: ClientTally | undefined
  readonly token: ClientTally | undefined
}

/** What checks selectors against the template budgets (`SubscriptionIndex.admit`). */
export interface TemplateBudgets {
  admit(selectors: readonly string[]): TemplateBudgetExcess | null
}

/** The tally of a subscription that counts against no cap, shared by all of them. */
const UNCOUNTED: SubscriptionTally = Object.freeze({ address: undefined, token: undefined })

/** Options for {@link SubscriptionLimits}. */
export interface SubscriptionLimitsOptions {
  /** Most subscriptions open at once per client address (IPv6: per /64); `null` for none. */
  maxPerAddress: number | null
  /** Most subscriptions open at once per token; `null` for none. */
  maxPerToken: number | null
}

/** Who asks to subscribe, and with what. */
export interface SubscriptionCandidate {
  readonly selectors: readonly string[]
  /** The client's address, as the socket reports it. */
  readonly clientAddress?: string | undefined
  /** A digest of the token the request carried (never the token itself). */
  readonly tokenDigest?: string | undefined
}

/** Checks new subscriptions against the hub-wide limits and counts the admitted ones. */
export class SubscriptionLimits {
  readonly #templates: TemplateBudgets
  readonly #maxPerAddress: number | null
  readonly #maxPerToken: number | null
  readonly #addresses = new Map<string, ClientTally>()
  readonly #tokens = new Map<string, ClientTally>()

  /**
   * @param templates The template budgets: the hub's `SubscriptionIndex`.
   * @throws {RangeError} when a cap is not a positive integer or `null`.
   */
  constructor(templates: TemplateBudgets, options: SubscriptionLimitsOptions) {
    for (const [name, value] of Object.entries(options)) {
      if (value !== null && !(Number.isSafeInteger(value) && value > 0)) {
        throw new RangeError(
          `${name} must be a positive integer, or null for no cap; got ${value}.`,
        )
      }
    }
    this.#templates = templates
    this.#maxPerAddress = options.maxPerAddress
    this.#maxPerToken = options.maxPerToken
  }

  /**
   * Admits `candidate` and counts it, or refuses it. Synchronous: an `index.add` of its selectors
   * in the same synchronous step stays within the template budgets checked here.
   *
   * @returns What it counts against (hand it to {@link release} when it closes), or the refusal.
   */
  admit(candidate: SubscriptionCandidate): SubscriptionTally | SubscriptionLimitError {
    const address =
      this.#maxPerAddress === null ? undefined : addressKey(candidate.clientAddress) || undefined
    const token = this.#maxPerToken === null ? undefined : candidate.tokenDigest
    if (
      address !== undefined &&
      this.#open(this.#addresses, address) >= (this.#maxPerAddress ?? 0)
    ) {
      return new SubscriptionLimitError(
        'subscriptions-per-address',
        `Too many subscriptions from this address: at most ${this.#maxPerAddress} may be open at once. Close some, or retry later.`,
      )
    }
    if (token !== undefined && this.#open(this.#tokens, token) >= (this.#maxPerToken ?? 0)) {
      return new SubscriptionLimitError(
        'subscriptions-per-token',
        `Too many subscriptions with this token: at most ${this.#maxPerToken} may be open at once. Close some, or retry later.`,
      )
    }
    const excess = this.#templates.admit(candidate.selectors)
    if (excess !== null) {
      const limit = excess.budget === 'work' ? 'template-work' : 'template-states'
      return new SubscriptionLimitError(limit, describeTemplateExcess(excess))
    }
    if (address === undefined && token === undefined) return UNCOUNTED
    return {
      address: address === undefined ? undefined : this.#take(this.#addresses, address),
      token: token === undefined ? undefined : this.#take(this.#tokens, token),
    }
  }

  /** Gives back what a closed subscription counted against. */
  release(tally: SubscriptionTally): void {
    if (tally.address !== undefined) this.#give(this.#addresses, tally.address)
    if (tally.token !== undefined) this.#give(this.#tokens, tally.token)
  }

  /** Subscriptions open from `address` (as the socket reports it), for tests and metrics. */
  openFromAddress(address: string): number {
    return this.#open(this.#addresses, addressKey(address))
  }

  #open(tallies: Map<string, ClientTally>, key: string): number {
    return tallies.get(key)?.open ?? 0
  }

  #take(tallies: Map<string, ClientTally>, key: string): ClientTally {
    let tally = tallies.get(key)
    if (tally === undefined) {
      tally = { key, open: 0 }
      tallies.set(key, tally)
    }
    tally.open++
    return tally
  }

  #give(tallies: Map<string, ClientTally>, tally: ClientTally): void {
    tally.open--
    if (tally.open <= 0 && tallies.get(tally.key) === tally) tallies.delete(tally.key)
  }
}

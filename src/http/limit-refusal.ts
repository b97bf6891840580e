import type { SubscriptionLimitError } from '../hub/subscription-limits.ts'
import { type HubAnswer, textAnswer } from './hub-answer.ts'
import type { HubLogger } from './hub-logger.ts'

/** Shortest time between two warnings about one limit, in milliseconds. */
const WARNING_INTERVAL_MS = 60_000

/**
 * Creates the answer to subscriptions refused past a hub-wide limit (template budgets, caps per
 * address and per token): `429` with `Retry-After`. Each limit reached is logged as a warning at
 * most once a minute: a flood of refusals must not flood the log.
 */
export function createLimitRefusal(
  logger: HubLogger,
): (error: SubscriptionLimitError, headers: Record<string, string>) => HubAnswer {
  /** When each limit last had a refusal logged. */
  const warned = new Map<string, number>()
  return (error, headers) => {
    const now = Date.now()
    if (now - (warned.get(error.limit) ?? -Infinity) >= WARNING_INTERVAL_MS) {
      warned.set(error.limit, now)
      const hint =
        error.limit === 'subscriptions-per-address'
          ? '; behind a proxy every client has its address: see --max-per-address'
          : ''
      logger.warn(
        { limit: error.limit },
        `refused subscriptions past a hub-wide limit (429)${hint}`,
      )
    }
    return textAnswer(429, `${error.message}\n`, {
      ...headers,
      'retry-after': String(error.retryAfterSeconds),
    })
  }
}

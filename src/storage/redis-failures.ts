// How the Redis store fails: its time limits, and errors that say what failed without any data
// or credentials.

import { StoreUnavailableError } from '../hub/event-store.ts'

/** A command Redis did not answer in time: the connection may be hung rather than closed. */
export class TimeoutError extends Error {}

/** `promise`, or a {@link TimeoutError} with `message` after `ms` milliseconds. */
export function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/** A `store-unavailable` error saying what failed and why (the driver's reason, never data). */
export function unavailable(context: string, error: unknown): StoreUnavailableError {
  if (error instanceof StoreUnavailableError) return error
  // The driver's and Redis's messages name the failure (ECONNREFUSED, OOM, NOSCRIPT), never data.
  const reason = error instanceof Error ? error.message : String(error)
  return new StoreUnavailableError(`${context}: ${reason}`, { cause: error })
}

/**
 * The error of an append script call that failed. Unless the command certainly never ran
 * (`mayHaveRun` false: the driver refused it before sending, or Redis answered with an error),
 * Redis may have stored the updates: it took the command, then did not answer in time (it still
 * runs it once it answers again) or the connection dropped before its answer. The outcome is
 * then `'unknown'`, and says so, rather than a "not stored" that a retry would make a duplicate.
 */
export function appendFailed(
  count: number,
  error: unknown,
  mayHaveRun: boolean,
): StoreUnavailableError {
  const reason = error instanceof Error ? error.message : String(error)
  if (!mayHaveRun) {
    return new StoreUnavailableError(`could not append ${count} update(s) in Redis: ${reason}`, {
      cause: error,
    })
  }
  return new StoreUnavailableError(
    `could not confirm the append of ${count} update(s) in Redis, which may still store them: ${reason}`,
    { cause: error, outcome: 'unknown' },
  )
}

/** A rejection handler that rethrows as {@link unavailable}, for `.catch()`. */
export function fail(context: string): (error: unknown) => never {
  return (error) => {
    throw unavailable(`${context} in Redis`, error)
  }
}

/** Host and port (and database) of a Redis URL, without credentials, for messages. */
export function describeUrl(url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === '/' ? '' : parsed.pathname}`
  } catch {
    return 'the configured URL'
  }
}

import type { HubLogger } from './hub-logger.ts'

/** Options for {@link createOutageLog}. */
export interface OutageLogOptions {
  logger: HubLogger
  /** The `error` line when the first failure comes, e.g. `'store unavailable'`. */
  failing: string
  /** The `info` line when it works again, e.g. `'store available again'`. */
  recovered: string
  /** Fields added to both lines. Defaults to none. */
  fields?: Readonly<Record<string, unknown>>
}

/** Logs a failing dependency once when it starts failing and once when it works again. */
export interface OutageLog {
  /** Reports a failure: logged (with its error) only if it is the first since the last recovery. */
  failed(error: unknown): void
  /** Reports a success: logged, with how many failures there were, only after a failure. */
  succeeded(): void
  /** Whether the last report was a failure. */
  readonly failing: boolean
}

/**
 * A failure that repeats for every request (a full disk, an unreachable store or key set) is one
 * fact, not one per request: a full disk made the hub log 2,800 stack traces, which fill the very
 * disk that is full. The first failure is logged with its error; the following ones are counted,
 * and the count is logged with the recovery.
 */
export function createOutageLog(options: OutageLogOptions): OutageLog {
  const { logger } = options
  const fields = options.fields ?? {}
  let failures = 0
  let since = 0
  return {
    failed(error) {
      failures++
      if (failures > 1) return
      since = Date.now()
      logger.error({ ...fields, err: error }, `${options.failing} (logged once until it recovers)`)
    },
    succeeded() {
      if (failures === 0) return
      logger.info(
        { ...fields, failures, seconds: Math.round((Date.now() - since) / 1000) },
        `${options.recovered} after ${failures} failure(s)`,
      )
      failures = 0
    },
    get failing() {
      return failures > 0
    },
  }
}

import type { Logger } from 'pino'
import { loadPino, resolvePinoPretty } from './cli-packages.ts'

export type { Logger }

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level, or `'silent'`. Defaults to `'info'`. */
  level?: string
  /** Human-readable lines instead of JSON (development). Defaults to `false`. */
  pretty?: boolean
}

/**
 * The only module that makes pino loggers (`cli-packages.ts` loads pino). Structured JSON in production; `pretty` for people.
 * Secrets never reach it: callers log reasons and claims' shapes, never tokens or keys.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { pino } = loadPino()
  const level = options.level ?? 'info'
  if (options.pretty) {
    return pino({
      level,
      transport: {
        target: resolvePinoPretty(),
        options: { translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' },
      },
    })
  }
  return pino({ level })
}

/** A logger that writes nothing, for tests and embedding. */
export function silentLogger(): Logger {
  return loadPino().pino({ level: 'silent' })
}

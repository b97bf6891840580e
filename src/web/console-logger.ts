import type { HubLogger } from '../http/hub-logger.ts'

/**
 * The fetch handler's default logger: `console`, where every runtime shows it (Workers' logs,
 * Deno's and Bun's standard error). Errors and warnings only; fields after the message.
 */
export const consoleLogger: HubLogger = {
  info() {},
  warn(fields, message) {
    console.warn(`ssehub: ${message}`, fields)
  },
  error(fields, message) {
    console.error(`ssehub: ${message}`, fields)
  },
}

/** A logger that writes nothing (`logger: null`). */
export const silentLogger: HubLogger = {
  info() {},
  warn() {},
  error() {},
}

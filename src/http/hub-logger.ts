/**
 * Where the HTTP adapters log: pino's `Logger` fits (the Node server passes one), and so does a
 * wrapper of `console` on runtimes without pino (see `web/console-logger.ts`). Fields never hold
 * a token or a key.
 */
export interface HubLogger {
  /** A recovery or a notable fact. */
  info(fields: Record<string, unknown>, message: string): void
  /** A refusal worth knowing about (a hub-wide limit reached). */
  warn(fields: Record<string, unknown>, message: string): void
  /** A failure of the hub or of what it depends on (store, key set). */
  error(fields: Record<string, unknown>, message: string): void
}

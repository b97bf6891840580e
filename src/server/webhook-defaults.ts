// The defaults of presence webhooks: `presence-webhooks.ts` applies them, and the CLI's settings
// (`webhook-config.ts`) write them into `--help` and docs/hub.md's table.

/** Events queued per webhook URL at most; past it new ones are dropped and counted. */
export const DEFAULT_WEBHOOK_MAX_QUEUE = 10_000

/** Longest one webhook POST may take, body included, in milliseconds. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000

/** POSTs in flight at once per webhook URL (each for its share of the subscribers). */
export const DEFAULT_WEBHOOK_LANES = 8

/** First retry delay, in milliseconds; each further one doubles it. */
export const DEFAULT_WEBHOOK_MIN_BACKOFF_MS = 500

/** Longest delay between two attempts, in milliseconds. */
export const DEFAULT_WEBHOOK_MAX_BACKOFF_MS = 30_000

/** Longest `Retry-After` honoured, in milliseconds. */
export const DEFAULT_WEBHOOK_MAX_RETRY_AFTER_MS = 60_000

/** How long `close()` keeps delivering what is queued, in milliseconds. */
export const DEFAULT_WEBHOOK_CLOSE_TIMEOUT_MS = 5_000

/** Least time between two "queue full" warnings, in milliseconds. */
export const DEFAULT_WEBHOOK_DROP_LOG_INTERVAL_MS = 10_000

/** Shortest secret accepted: a shorter one is a placeholder, not a key. */
export const MIN_WEBHOOK_SECRET_LENGTH = 32

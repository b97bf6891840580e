/** Retention of the history, shared by every store. */
export interface RetentionOptions {
  /** Keep at most this many updates (the oldest go first). Defaults to `100000`. */
  maxUpdates?: number
  /** Drop updates older than this, in milliseconds; `null` keeps them by count only. Defaults to `null`. */
  maxAgeMs?: number | null
}

/**
 * What went wrong, as a stable string a program can switch on.
 *
 * - `invalid-field`: an event field that would break the wire format (CR/LF in `event` or `id`,
 *   NUL in `id`, a `retry` that is not a non-negative integer). Thrown by the encoder.
 * - `line-too-long`: the parser met a line longer than its `maxLineLength`.
 * - `event-too-large`: the parser met an event whose data is longer than its `maxEventLength`.
 */
export type SseErrorCode = 'invalid-field' | 'line-too-long' | 'event-too-large'

/**
 * The one error class of ssehub's core. Check `code`, not the message: messages may be reworded.
 * Messages never contain the offending value itself when that value could be a secret.
 */
export class SseError extends Error {
  /** Stable machine-readable reason. */
  readonly code: SseErrorCode

  constructor(code: SseErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'SseError'
    this.code = code
  }

  /** True for any `SseError`, also one from another realm or copy of this module. */
  static is(value: unknown): value is SseError {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as { name?: unknown }).name === 'SseError' &&
      typeof (value as { code?: unknown }).code === 'string'
    )
  }
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Parses a duration such as `15s`, `500ms`, `2m` or `1h`; a bare number is milliseconds.
 * Returns `undefined` for anything else, so the caller can say what it expected.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim())
  if (match === null) return undefined
  const value = Number(match[1]) * (UNIT_MS[match[2] ?? 'ms'] as number)
  return Number.isFinite(value) ? Math.round(value) : undefined
}

/** Writes `ms` in the largest unit that holds it whole (`15s`, `10m`, `500ms`): the inverse of {@link parseDuration}. */
export function formatDuration(ms: number): string {
  for (const unit of ['h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

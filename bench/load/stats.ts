// Percentiles and small formatting helpers shared by the scenarios.

/** Latency percentiles in milliseconds. */
export interface LatencySummary {
  count: number
  p50: number
  p99: number
  p999: number
  max: number
}

/** Sorts a copy of `samples` (microseconds) and reads the percentiles, in milliseconds. */
export function summarizeLatency(samples: Float64Array): LatencySummary {
  const sorted = Float64Array.from(samples).sort()
  const at = (p: number): number =>
    sorted.length === 0
      ? Number.NaN
      : (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number) / 1000
  return {
    count: sorted.length,
    p50: at(0.5),
    p99: at(0.99),
    p999: at(0.999),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number) / 1000,
  }
}

/** Concatenates typed arrays of samples. */
export function concatSamples(parts: readonly Float64Array[]): Float64Array {
  const out = new Float64Array(parts.reduce((sum, part) => sum + part.length, 0))
  let offset = 0
  for (const part of parts) {
    out.set(part, offset)
    offset += part.length
  }
  return out
}

/** `1234567` → `1,234,567`; fractions keep `digits` significant decimals below 100. */
export function formatNumber(value: number, digits = 2): string {
  if (!Number.isFinite(value)) return '—'
  const abs = Math.abs(value)
  if (abs >= 100) return Math.round(value).toLocaleString('en-US')
  if (abs >= 10) return value.toFixed(Math.max(0, digits - 1))
  return value.toFixed(digits)
}

/** Seconds since `startNs` (an hrtime reading in ns), as a short string. */
export function secondsSince(startNs: number): string {
  return `${((Number(process.hrtime.bigint()) - startNs) / 1e9).toFixed(1)} s`
}

import type { MercureMetrics } from '../node/index.ts'

type Method = Exclude<keyof MercureMetrics, 'observe'>

const METHODS: readonly Method[] = [
  'published',
  'delivered',
  'subscribed',
  'disconnected',
  'subscriptionEventsDropped',
]

/**
 * One {@link MercureMetrics} that reports to each of `observers` in turn (Prometheus, the
 * dashboard's statistics, presence webhooks): the hub takes one. A method none of them has is
 * left out, so the hub skips it rather than calling an empty function per publish; a single
 * observer is returned as it is.
 */
export function combineMetrics(
  observers: readonly (MercureMetrics | null | undefined)[],
): MercureMetrics | null {
  const present = observers.filter((o): o is MercureMetrics => o != null)
  if (present.length === 0) return null
  if (present.length === 1) return present[0] as MercureMetrics
  const combined: { observe?: MercureMetrics['observe'] } & Record<string, unknown> = {}
  for (const method of METHODS) {
    const calls = present
      .filter((o) => typeof o[method] === 'function')
      .map((o) => (o[method] as (a: unknown, b: unknown) => void).bind(o))
    if (calls.length === 0) continue
    // Every hook takes at most two arguments: passed as such, not as a rest array allocated on
    // every publish and every dispatch.
    combined[method] =
      calls.length === 1
        ? calls[0]
        : (a: unknown, b: unknown) => {
            for (const call of calls) call(a, b)
          }
  }
  const observing = present.filter((o) => typeof o.observe === 'function')
  if (observing.length > 0) {
    combined.observe = (sources) => {
      for (const o of observing) o.observe?.(sources)
    }
  }
  return combined as MercureMetrics
}

import type { SubscribePayload } from '../hub/subscriber.ts'
import type { DirectorySubscriber } from '../hub/subscription-directory.ts'

/**
 * A subscriber as the Redis directory stores it: one field of its node's hash
 * (`<prefix>subscriptions:<nodeId>`), the subscriber id → this JSON. Read back by the
 * subscriptions API on every node, and by the node that claims a lost node (`redis-cluster.ts`).
 */
export function describeSubscriber(subscriber: DirectorySubscriber): string {
  const claims = subscriber.claims
  const record: { selectors: readonly string[]; payload?: unknown; subscribePayloads?: unknown } = {
    selectors: subscriber.selectors,
  }
  if (claims?.payload !== undefined) record.payload = claims.payload
  // Mercure 1.0: the `subscribe` details' selectors and payloads, from which every node picks a
  // subscription's payload as the subscriber's own node does (see `subscription-payload.ts`).
  if (claims?.subscribePayloads !== undefined) record.subscribePayloads = claims.subscribePayloads
  return JSON.stringify(record)
}

/**
 * The subscriber stored under `id` as `json`, or `undefined` when the field is not one this
 * directory wrote (anything else in Redis can write there: it is skipped, never trusted).
 */
export function parseSubscriber(id: string, json: string): DirectorySubscriber | undefined {
  try {
    const value = JSON.parse(json) as {
      selectors?: unknown
      payload?: unknown
      subscribePayloads?: unknown
    }
    if (!Array.isArray(value.selectors)) return undefined
    const selectors = value.selectors.filter((s): s is string => typeof s === 'string')
    const details = Array.isArray(value.subscribePayloads)
      ? value.subscribePayloads.filter(
          (detail): detail is SubscribePayload =>
            typeof detail === 'object' &&
            detail !== null &&
            Array.isArray((detail as { selectors?: unknown }).selectors),
        )
      : undefined
    if (details !== undefined) return { id, selectors, claims: { subscribePayloads: details } }
    return { id, selectors, claims: 'payload' in value ? { payload: value.payload } : null }
  } catch {
    return undefined
  }
}

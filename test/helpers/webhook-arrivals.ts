import assert from 'node:assert/strict'
import type { WebhookEvent } from '../../src/server/webhook-event.ts'
import { verifyWebhookSignature } from '../../src/server/webhook-signature.ts'

/** One request a webhook receiver got, in the order of arrival. */
export interface SignedArrival {
  readonly index: number
  readonly id: string | undefined
  readonly signature: string | undefined
  readonly body: string
  /** Which node sent it, when the receiver tells the senders apart. */
  readonly from?: string
}

/** An event as the receiver got it: the first and last request that carried it. */
export interface DistinctEvent<A extends SignedArrival = SignedArrival> {
  readonly event: WebhookEvent
  readonly body: string
  readonly from: A['from']
  readonly first: number
  last: number
}

/**
 * Every distinct event (deduplicated by id), after checking each request: a valid signature, the
 * id header equal to the body's id, and a retry sending the very same bytes (from the same node,
 * when the arrivals say which node sent them).
 */
export function distinctEvents<A extends SignedArrival>(
  secret: string,
  arrivals: readonly A[],
): Map<string, DistinctEvent<A>> {
  const events = new Map<string, DistinctEvent<A>>()
  for (const arrival of arrivals) {
    assert.ok(
      verifyWebhookSignature(secret, arrival.signature, arrival.body),
      `request ${arrival.index} carries a valid signature`,
    )
    const event = JSON.parse(arrival.body) as WebhookEvent
    assert.equal(arrival.id, event.id, 'the id header is the body id')
    const seen = events.get(event.id)
    if (seen === undefined) {
      const { body, index } = arrival
      // What `A` says of `from` (always there, or never), which TypeScript cannot follow here.
      const from = arrival.from as A['from']
      events.set(event.id, { event, body, from, first: index, last: index })
    } else {
      assert.equal(arrival.body, seen.body, 'a retry sends the very same bytes')
      if (arrival.from !== undefined) {
        assert.equal(arrival.from, seen.from, 'a retry comes from the same node')
      }
      seen.last = arrival.index
    }
  }
  return events
}

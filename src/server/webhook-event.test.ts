import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { LostSubscriber } from '../hub/index.ts'
import {
  lostSubscriberEvent,
  type PendingEvent,
  subscriberEvent,
  type WebhookSubscriber,
} from './webhook-event.ts'

const eventOf = (pending: PendingEvent) => pending.make()

/** The subscriber as a Redis node keeps it for its claimer (see `redis-subscriber-record.ts`). */
function asLost(subscriber: WebhookSubscriber): LostSubscriber {
  const payload = subscriber.claims?.payload
  const details = subscriber.claims?.subscribePayloads
  return {
    id: subscriber.id,
    selectors: subscriber.selectors,
    ...(payload === undefined ? {} : { payload }),
    ...(details === undefined ? {} : { subscribePayloads: details }),
  }
}

describe('lostSubscriberEvent', () => {
  const subscribers: Array<[string, WebhookSubscriber]> = [
    [
      '1.0, a payload per selector: the first detail matching its first subscription',
      {
        id: 'urn:uuid:ada',
        protocol: '1.0',
        // The 1.0 `match` (exact) mark, then a second subscription with another payload.
        selectors: ['\u0001https://example.com/users/ada', '\u0001https://example.com/rooms/1'],
        claims: {
          subscribePayloads: [
            { selectors: ['https://example.com/rooms/1'], payload: { room: 1 } },
            { selectors: ['https://example.com/users/ada'], payload: { name: 'Ada' } },
            { selectors: ['*'], payload: { anyone: true } },
          ],
        },
      },
    ],
    [
      '0.x, one payload',
      {
        id: 'urn:uuid:bob',
        protocol: '0.x',
        selectors: ['https://example.com/users/bob'],
        claims: { payload: { name: 'Bob' } },
      },
    ],
    ['no payload', { id: 'urn:uuid:eve', protocol: '0.x', selectors: ['*'], claims: null }],
  ]
  for (const [what, subscriber] of subscribers) {
    it(`carries the payload its subscribe event carried (${what})`, () => {
      const subscribed = eventOf(subscriberEvent(subscriber, null, () => 'node-a'))
      const lost = eventOf(lostSubscriberEvent(asLost(subscriber), 'node-a'))
      assert.deepEqual(lost.payload, subscribed.payload)
      assert.deepEqual(lost.selectors, subscribed.selectors)
      assert.equal(lost.reason, 'node-lost')
      assert.equal(lost.protocol, null, 'the store does not keep the protocol')
    })
  }

  it('picks the 1.0 payload by selector, not the first detail', () => {
    const [, ada] = subscribers[0] as [string, WebhookSubscriber]
    const lost = eventOf(lostSubscriberEvent(asLost(ada), 'node-a'))
    assert.deepEqual(lost.payload, { name: 'Ada' })
  })
})

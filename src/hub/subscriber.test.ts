import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createEventStream } from '../core/event-stream.ts'
import { Subscriber, type SubscriberClaims } from './subscriber.ts'
import type { StoredUpdate } from './update.ts'

/** The test stand-in for the topic-selector matcher: `*` and exact equality only. */
const matches = (selector: string, topic: string): boolean => selector === '*' || selector === topic

const BOOK_1 = 'https://example.com/books/1'
const BOOK_2 = 'https://example.com/books/2'

function subscriber(claims: SubscriberClaims | null, selectors = ['*']): Subscriber {
  const stream = createEventStream(
    { write: () => true, end() {}, destroy() {} },
    { heartbeat: null },
  )
  return new Subscriber({ selectors, claims, stream })
}

function update(topics: string[], isPrivate = true): StoredUpdate {
  return { id: 'urn:x', topics, data: '', private: isPrivate, cursor: '1', time: 0 }
}

describe('Subscriber#mayReceive', () => {
  it('allows a private update when any mercure.subscribe selector matches any of its topics', () => {
    assert.equal(
      subscriber({ subscribe: [BOOK_2] }).mayReceive(update([BOOK_1, BOOK_2]), matches),
      true,
    )
    assert.equal(subscriber({ subscribe: ['*'] }).mayReceive(update([BOOK_1]), matches), true)
  })

  it('refuses a private update when no selector matches', () => {
    assert.equal(subscriber({ subscribe: [BOOK_2] }).mayReceive(update([BOOK_1]), matches), false)
  })

  it('refuses private updates to anonymous subscribers and tokens without or with an empty mercure.subscribe', () => {
    assert.equal(subscriber(null).mayReceive(update([BOOK_1]), matches), false)
    assert.equal(
      subscriber({ payload: { name: 'ada' } }).mayReceive(update([BOOK_1]), matches),
      false,
    )
    assert.equal(subscriber({ subscribe: [] }).mayReceive(update([BOOK_1]), matches), false)
  })

  it('grants nothing for the topic selectors it subscribed with: they only route', () => {
    assert.equal(subscriber(null, [BOOK_1]).mayReceive(update([BOOK_1]), matches), false)
  })

  it('allows a public update to anyone', () => {
    assert.equal(subscriber(null).mayReceive(update([BOOK_1], false), matches), true)
    assert.equal(
      subscriber({ subscribe: [BOOK_2] }).mayReceive(update([BOOK_1], false), matches),
      true,
    )
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matcherSelector } from './mercure-matcher.ts'
import { subscriptionTopic } from './subscription-events.ts'
import {
  subscriptionEventProtocol,
  subscriptionMatcher,
  subscriptionTopicV1,
  subscriptionUpdateV1,
} from './subscription-events-v1.ts'

const HUB = 'https://hub.example/.well-known/mercure'
const PATH = '/.well-known/mercure/subscriptions'
const SUBSCRIBER = 'urn:uuid:0b5c6a4e-2f6d-4c1a-9a57-5e0f3c1d2b7a'

describe('subscriptionTopicV1', () => {
  it('percent-encodes each variable exactly once, as a whole, outside A-Za-z0-9-._~', () => {
    const match = 'https://example.com/a b/%41?q=1:é/{x}~ü'
    const topic = subscriptionTopicV1({ type: 'exact', match }, SUBSCRIBER)
    const segments = topic.slice(PATH.length + 1).split('/')
    assert.equal(segments.length, 3)
    assert.equal(segments[0], 'exact')
    assert.match(segments[1] ?? '', /^(?:[A-Za-z0-9\-._~]|%[0-9A-F]{2})+$/)
    assert.equal(
      segments[1],
      'https%3A%2F%2Fexample.com%2Fa%20b%2F%2541%3Fq%3D1%3A%C3%A9%2F%7Bx%7D~%C3%BC',
    )
    assert.equal(decodeURIComponent(segments[1] ?? ''), match, 'one decoding gives it back')
    assert.equal(segments[2], 'urn%3Auuid%3A0b5c6a4e-2f6d-4c1a-9a57-5e0f3c1d2b7a')
  })

  it('is relative, with the canonical type name', () => {
    const topic = subscriptionTopicV1({ type: 'urlpattern', match: '/books/:id' }, SUBSCRIBER)
    assert.ok(topic.startsWith(`${PATH}/urlpattern/%2Fbooks%2F%3Aid/`))
  })
})

describe('subscriptionMatcher', () => {
  it("reads a 1.0 selector's type and value, a 0.x selector as exact, and no template", () => {
    const braces = matcherSelector({ type: 'exact', match: 'https://example.com/{id}' }, HUB)
    assert.deepEqual(subscriptionMatcher(braces), {
      type: 'exact',
      match: 'https://example.com/{id}',
    })
    const pattern = matcherSelector({ type: 'urlpattern', match: '/books/:id' }, HUB)
    assert.deepEqual(subscriptionMatcher(pattern), { type: 'urlpattern', match: '/books/:id' })
    assert.deepEqual(subscriptionMatcher('urn:a'), { type: 'exact', match: 'urn:a' })
    assert.deepEqual(subscriptionMatcher('*'), { type: 'exact', match: '*' })
    assert.equal(subscriptionMatcher('https://example.com/{id}'), null, 'a 0.x URI Template')
  })
})

describe('subscriptionUpdateV1', () => {
  it('is a private `mercure` update whose document id is its topic, members in order', () => {
    const selector = matcherSelector({ type: 'urlpattern', match: '/books/:id' }, HUB)
    const update = subscriptionUpdateV1(
      { subscriber: SUBSCRIBER, topic: selector, payload: { a: 1 } },
      true,
    )
    assert.ok(update)
    assert.equal(update.private, true)
    assert.equal(update.type, 'mercure')
    assert.match(update.id, /^#[0-9a-f-]{36}$/)
    const document = JSON.parse(update.data)
    assert.deepEqual(Object.keys(document), [
      'id',
      'type',
      'subscriber',
      'match',
      'match_type',
      'active',
      'payload',
    ])
    assert.equal(document.id, update.topics[0])
    assert.deepEqual(document, {
      id: subscriptionTopicV1({ type: 'urlpattern', match: '/books/:id' }, SUBSCRIBER),
      type: 'subscription',
      subscriber: SUBSCRIBER,
      match: '/books/:id',
      match_type: 'urlpattern',
      active: true,
      payload: { a: 1 },
    })
    const left = subscriptionUpdateV1({ subscriber: SUBSCRIBER, topic: 'urn:a' }, false)
    assert.equal(JSON.parse(left?.data ?? '{}').active, false)
    assert.equal('payload' in JSON.parse(left?.data ?? '{}'), false)
    assert.equal(subscriptionUpdateV1({ subscriber: SUBSCRIBER, topic: '{x}' }, true), null)
  })

  it('has fresh ids', () => {
    const one = subscriptionUpdateV1({ subscriber: SUBSCRIBER, topic: 'urn:a' }, true)
    const two = subscriptionUpdateV1({ subscriber: SUBSCRIBER, topic: 'urn:a' }, true)
    assert.notEqual(one?.id, two?.id)
  })
})

describe('subscriptionEventProtocol', () => {
  it("tells the two shapes' topics apart, whatever the values hold", () => {
    const sneaky = 'exact/x'
    assert.equal(subscriptionEventProtocol(subscriptionTopic(sneaky, SUBSCRIBER)), '0.x')
    assert.equal(subscriptionEventProtocol(subscriptionTopic('urn:a', SUBSCRIBER)), '0.x')
    const topic = subscriptionTopicV1({ type: 'exact', match: 'a/b/c' }, SUBSCRIBER)
    assert.equal(subscriptionEventProtocol(topic), '1.0')
  })
})

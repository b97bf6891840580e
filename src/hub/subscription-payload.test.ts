import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matcherSelector } from './mercure-matcher.ts'
import { subscriptionPayload } from './subscription-payload.ts'
import { createSelectorMatcher } from './topic-selector.ts'

const HUB = 'https://hub.example/.well-known/mercure'
const matcher = createSelectorMatcher()
const matches = (selector: string, topic: string) => matcher.matches(selector, topic)
const exact = (match: string) => matcherSelector({ type: 'exact', match }, HUB)
const pattern = (match: string) => matcherSelector({ type: 'urlpattern', match }, HUB)

describe('subscriptionPayload', () => {
  const subscribePayloads = [
    { selectors: [exact('https://example.com/{id}')], payload: { from: 'braces' } },
    { selectors: [exact('https://example.com/books/:id')], payload: undefined },
    { selectors: [pattern('https://example.com/authors/*')], payload: { from: 'authors' } },
    { selectors: ['*'], payload: { from: 'star' } },
  ]
  const claims = { subscribe: ['*'], subscribePayloads }

  it("takes the first detail whose selectors match the subscription's own matcher value", () => {
    assert.deepEqual(subscriptionPayload(claims, exact('https://example.com/{id}'), matches), {
      from: 'braces',
    })
    assert.deepEqual(
      subscriptionPayload(claims, pattern('https://example.com/authors/:name'), matches),
      { from: 'authors' },
      'a URL pattern grant matches the pattern text taken as a topic',
    )
    assert.deepEqual(subscriptionPayload(claims, 'urn:other', matches), { from: 'star' })
    assert.deepEqual(subscriptionPayload(claims, '*', matches), { from: 'star' })
  })

  it('stops at the first matching detail even when it has no payload', () => {
    const selector = pattern('https://example.com/books/:id')
    assert.equal(subscriptionPayload(claims, selector, matches), undefined)
  })

  it('gives none when no detail matches, and 0.x claims their one payload', () => {
    const narrow = { subscribePayloads: [{ selectors: ['urn:a'], payload: 1 }] }
    assert.equal(subscriptionPayload(narrow, 'urn:b', matches), undefined)
    assert.equal(subscriptionPayload(narrow, 'urn:a', matches), 1)
    assert.deepEqual(subscriptionPayload({ payload: { name: 'Ada' } }, 'urn:b', matches), {
      name: 'Ada',
    })
    assert.equal(subscriptionPayload(null, 'urn:b', matches), undefined)
  })
})

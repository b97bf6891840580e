import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  checkMatchValue,
  describeSelector,
  MAX_MATCH_LENGTH,
  matcherSelector,
} from './mercure-matcher.ts'
import { SubscriptionIndex } from './subscription-index.ts'
import { createSelectorMatcher } from './topic-selector.ts'

const HUB = 'https://hub.example/.well-known/mercure'

describe('Mercure 1.0 matchers as selectors', () => {
  const { matches } = createSelectorMatcher()
  const exact = (match: string) => matcherSelector({ type: 'exact', match }, HUB)
  const pattern = (match: string) => matcherSelector({ type: 'urlpattern', match }, HUB)

  it('writes * as the wildcard whatever the type', () => {
    assert.equal(exact('*'), '*')
    assert.equal(pattern('*'), '*')
    assert.ok(matches(pattern('*'), 'anything at all'))
  })

  it('compares exact values byte for byte, never as a template', () => {
    assert.equal(exact('https://example.com/a'), 'https://example.com/a')
    assert.ok(matches(exact('https://example.com/{id}'), 'https://example.com/{id}'))
    assert.ok(!matches(exact('https://example.com/{id}'), 'https://example.com/1'))
    // The 0.x selector of the same text is a template.
    assert.ok(matches('https://example.com/{id}', 'https://example.com/1'))
    assert.ok(!matches(exact('https://Example.com/a'), 'https://example.com/a'))
    assert.ok(!matches(exact('foo'), '/.well-known/foo'))
  })

  it('matches URL patterns with relative patterns and topics resolved against the hub URL', () => {
    assert.ok(matches(pattern('https://example.net/foo/:random'), 'https://example.net/foo/x1'))
    assert.ok(!matches(pattern('https://example.net/bar/:var'), 'https://example.net/foo/x'))
    assert.ok(matches(pattern('/books/:id'), 'https://hub.example/books/1'))
    assert.ok(matches(pattern('/books/:id'), '/books/1'))
    assert.ok(matches(pattern('https://hub.example/books/:id'), '/books/2'))
    assert.ok(!matches(pattern('/books/:id'), 'https://other.example/books/1'))
    // The host is case-insensitive; the path is not.
    assert.ok(matches(pattern('https://EXAMPLE.net/foo/:x'), 'https://example.NET/foo/y'))
    assert.ok(!matches(pattern('https://example.net/FOO/:x'), 'https://example.net/foo/y'))
    // A topic that is no URL reference matches nothing.
    assert.ok(!matches(pattern('*://*'), 'http://[::1'))
  })

  it('reads a selector back', () => {
    assert.deepEqual(describeSelector(pattern('/a/:b')), {
      type: 'urlpattern',
      match: '/a/:b',
      hubUrl: HUB,
    })
    assert.deepEqual(describeSelector(exact('a{b}')), { type: 'exact', match: 'a{b}' })
    assert.deepEqual(describeSelector('a{b}'), { type: 'template', match: 'a{b}' })
    assert.deepEqual(describeSelector('plain'), { type: 'exact', match: 'plain' })
  })

  it('indexes exact values with { and URL patterns, once per item', () => {
    const index = new SubscriptionIndex<string>()
    index.add(exact('a{b}'), 'e')
    index.add(pattern('https://example.net/foo/:x'), 'p')
    index.add(pattern('https://example.net/foo/:x'), 'q')
    index.add('https://example.net/foo/{x}', 't')
    const found = (topic: string) => {
      const items: string[] = []
      index.match([topic], (item) => items.push(item))
      return items.sort()
    }
    assert.deepEqual(found('a{b}'), ['e'])
    assert.deepEqual(found('ab'), [])
    assert.deepEqual(found('https://example.net/foo/1'), ['p', 'q', 't'])
    assert.ok(index.templateWork > 0)
    assert.ok(index.delete(pattern('https://example.net/foo/:x'), 'p'))
    assert.ok(index.delete(pattern('https://example.net/foo/:x'), 'q'))
    assert.deepEqual(found('https://example.net/foo/1'), ['t'])
  })

  it('refuses control, C1, DEL, Cf characters and lone surrogates, at and past the length bound', () => {
    assert.equal(checkMatchValue('https://example.com/é'), null)
    assert.equal(checkMatchValue('x'.repeat(MAX_MATCH_LENGTH)), null)
    assert.match(checkMatchValue('x'.repeat(MAX_MATCH_LENGTH + 1)) ?? '', /longer/)
    for (const bad of ['a\u0000', 'a\nb', '\u007f', '\u0085', 'a\u202eb', '\u200d', '\ufeff']) {
      assert.match(checkMatchValue(bad) ?? '', /control or invisible/, JSON.stringify(bad))
    }
    assert.match(checkMatchValue('a\ud800') ?? '', /UTF-8/)
    assert.match(checkMatchValue('\udc00a') ?? '', /UTF-8/)
    assert.equal(checkMatchValue('\ud83d\ude00'), null)
  })
})

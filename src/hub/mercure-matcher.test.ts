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

describe('URL patterns in the subscription index', () => {
  const HUBS = [
    'https://hub.example/.well-known/mercure',
    'http://127.0.0.1:3000/.well-known/mercure',
  ]
  const PATTERNS = [
    '/books/:id',
    '/books/:id/reviews/*',
    'https://example.com/users/:user',
    'https://EXAMPLE.com/users/1',
    'https://example.com/users/(\\d+)',
    '*://*/books/:id',
    'https://*.example.com/:x',
    'http{s}?://example.com/a/:b?',
    '/.well-known/mercure/subscriptions/:type/:match/:subscriber',
    'https://example.com/caf%C3%A9/:x',
    'https://example.com/café/:x',
    '*',
  ]
  const TOPICS = [
    '/books/1',
    'books/1',
    'https://hub.example/books/1',
    'http://127.0.0.1:3000/books/2/reviews/x/y',
    'https://example.com/users/1',
    'https://Example.COM/users/12',
    'https://a.example.com/z',
    'http://example.com/a/',
    'https://example.com/a/b',
    '/.well-known/mercure/subscriptions/exact/a%2Fb/urn%3Auuid%3A1',
    'https://example.com/café/1',
    'https://example.com/caf%C3%A9/2',
    'https://user:pw@example.com/users/1',
    'urn:isbn:1',
    'http://[::1',
    '',
  ]

  it('finds exactly the items whose patterns match, whatever the mix, and frees what it held', async () => {
    const fc = await import('fast-check')
    const { matches } = createSelectorMatcher()
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            hub: fc.constantFrom(...HUBS),
            pattern: fc.constantFrom(...PATTERNS),
            item: fc.integer({ min: 0, max: 5 }),
          }),
          { maxLength: 20 },
        ),
        fc.subarray(TOPICS, { minLength: 1 }),
        (subscriptions, topics) => {
          const index = new SubscriptionIndex<number>()
          const held = new Map<number, Set<string>>()
          for (const { hub, pattern, item } of subscriptions) {
            const selector = matcherSelector({ type: 'urlpattern', match: pattern }, hub)
            index.add(selector, item)
            held.set(item, (held.get(item) ?? new Set()).add(selector))
          }
          const found: number[] = []
          index.match(topics, (item) => found.push(item))
          const expected = [...held]
            .filter(([, selectors]) =>
              [...selectors].some((selector) => topics.some((topic) => matches(selector, topic))),
            )
            .map(([item]) => item)
          assert.deepEqual(found.sort(), expected.sort())
          for (const [item, selectors] of held) {
            for (const selector of selectors) assert.ok(index.delete(selector, item))
          }
          assert.equal(index.size, 0)
          assert.equal(index.templateWork, 0)
          assert.equal(index.templateStates, 0)
        },
      ),
      { numRuns: 300 },
    )
  })

  it('charges a topic only the patterns that fix what its key starts with', () => {
    const index = new SubscriptionIndex<string>({ maxTemplateWork: 10_000 })
    for (let i = 0; i < 500; i++) {
      index.add(matcherSelector({ type: 'urlpattern', match: `/users/${i}/:x` }, HUB), `u${i}`)
    }
    const single = new SubscriptionIndex<string>()
    single.add(matcherSelector({ type: 'urlpattern', match: '/users/499/:x' }, HUB), 'u')
    const one = index.templateWork
    // A topic meets the patterns whose fixed text starts it: /users/1, /users/10, /users/100
    // (the slash before `:x` belongs to the group), so three at most, never the 500.
    assert.ok(one <= 3 * single.templateWork, `${one} > 3 × ${single.templateWork}`)
    assert.ok(one >= single.templateWork)
    const shared = matcherSelector({ type: 'urlpattern', match: '*://*/users/*' }, HUB)
    assert.equal(index.admit([shared]), null)
    index.add(shared, 'any')
    assert.ok(index.templateWork > one)
    const found: string[] = []
    index.match(['https://hub.example/users/42/x'], (item) => found.push(item))
    assert.deepEqual(found.sort(), ['any', 'u42'])
  })
})

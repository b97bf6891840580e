import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CACHED_MATCH_WORK,
  checkSelector,
  checkTemplateBudget,
  createSelectorMatcher,
  MAX_SELECTOR_LENGTH,
  MAX_SUBSCRIPTION_TEMPLATE_STATES,
} from './topic-selector.ts'

const BOOK = 'https://example.com/books/1'

describe('createSelectorMatcher', () => {
  it('matches every topic with "*"', () => {
    const { matches } = createSelectorMatcher()
    for (const topic of [BOOK, 'urn:uuid:1', '', '*']) assert.ok(matches('*', topic))
  })

  it('matches an exact selector to the identical topic only', () => {
    const { matches } = createSelectorMatcher()
    assert.ok(matches(BOOK, BOOK))
    assert.equal(matches(BOOK, `${BOOK}/`), false)
    assert.equal(matches(BOOK, 'https://example.com/books/10'), false)
    assert.equal(matches('', BOOK), false)
  })

  it('matches a template selector to the topics it expands to', () => {
    const { matches } = createSelectorMatcher()
    assert.ok(matches('https://example.com/books/{id}', BOOK))
    assert.ok(matches('https://example.com/books/{id}', 'https://example.com/books/'))
    assert.equal(matches('https://example.com/books/{id}', `${BOOK}/chapters`), false)
    const user = 'https://example.com/users/foo/{?topic}'
    assert.ok(matches(user, `https://example.com/users/foo/?topic=${encodeURIComponent(BOOK)}`))
    assert.equal(
      matches(user, `https://example.com/users/bar/?topic=${encodeURIComponent(BOOK)}`),
      false,
    )
  })

  it('matches a template to the identical string, though it is no expansion of itself', () => {
    const { matches } = createSelectorMatcher()
    const template = 'https://example.com/books/{id}'
    assert.ok(matches(template, template))
  })

  it('falls back to exact matching for an invalid template', () => {
    const { matches, template } = createSelectorMatcher()
    const invalid = 'https://example.com/books/{id'
    assert.equal(template(invalid), null)
    assert.ok(matches(invalid, invalid))
    assert.equal(matches(invalid, BOOK), false)
    assert.equal(matches('https://example.com/{a b}', 'https://example.com/x'), false)
  })

  it('treats a selector as a template only when it contains "{"', () => {
    const { template } = createSelectorMatcher()
    assert.equal(template(BOOK), null)
    assert.equal(template('*'), null)
    assert.notEqual(template('https://example.com/books/{id}'), null)
  })

  it('treats a selector longer than MAX_SELECTOR_LENGTH as no template', () => {
    const { matches, template } = createSelectorMatcher()
    const long = `https://example.com/${'a'.repeat(MAX_SELECTOR_LENGTH)}/{id}`
    assert.equal(template(long), null)
    assert.equal(matches(long, long.replace('{id}', '1')), false)
    assert.ok(matches(long, long))
  })

  it('keeps its caches within cacheSize entries when fed endless distinct selectors', () => {
    const matcher = createSelectorMatcher({ cacheSize: 100 })
    // A topic long enough for its answer to be cached (see CACHED_MATCH_WORK).
    const topic = `?topic=${'x'.repeat(CACHED_MATCH_WORK)}`
    for (let i = 0; i < 300; i++) {
      const selector = `https://example.com/users/${i}/{?topic}`
      assert.ok(matcher.matches(selector, `https://example.com/users/${i}/`))
      assert.equal(matcher.matches(selector, `https://example.com/users/${i}/${topic}`), true)
      assert.equal(matcher.matches(`https://example.com/x/${i}/{id`, BOOK), false)
    }
    const stats = matcher.cacheStats()
    assert.equal(stats.capacity, 100)
    assert.ok(stats.templates <= 100, `${stats.templates} templates`)
    assert.ok(stats.results <= 100, `${stats.results} results`)
    assert.ok(stats.templates > 0 && stats.results > 0)
  })

  it('keeps its caches within their weight when every selector is as large as allowed', () => {
    const matcher = createSelectorMatcher({ cacheSize: 10 })
    for (let i = 0; i < 30; i++) {
      // Each compiles to hundreds of states and is tested against a long topic.
      const selector = `{?a${i},b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q,r,s,t,u,v,w,x,y,z}`
      matcher.matches(selector, `?a${i}=${'x'.repeat(1000)}`)
    }
    const stats = matcher.cacheStats()
    assert.ok(stats.templateStates <= 64 * 10, `${stats.templateStates} states`)
    assert.ok(stats.resultChars <= 256 * 10, `${stats.resultChars} characters`)
  })

  it('caches the answers of slow pairs only, and gives the same answers as without a cache', () => {
    const cached = createSelectorMatcher()
    const uncached = createSelectorMatcher({ cacheSize: 0 })
    const selector = 'https://example.com/users/foo/{?topic}'
    const short = `https://example.com/users/foo/?topic=${encodeURIComponent(BOOK)}`
    const long = `https://example.com/users/foo/?topic=${'%2F'.repeat(CACHED_MATCH_WORK)}`
    for (const topic of [short, long, `${long}/`, short, long]) {
      assert.equal(cached.matches(selector, topic), uncached.matches(selector, topic))
    }
    assert.equal(cached.cacheStats().results, 2)
  })

  it('drops the least recently used template first', () => {
    const { template } = createSelectorMatcher({ cacheSize: 2 })
    const [a, b, c] = ['{a}', '{b}', '{c}']
    const first = template(a)
    const second = template(b)
    assert.equal(template(a), first) // a is now the most recently used
    template(c) // evicts b
    assert.equal(template(a), first)
    assert.notEqual(template(b), second)
  })

  it('still matches with caching turned off', () => {
    const matcher = createSelectorMatcher({ cacheSize: 0 })
    assert.ok(matcher.matches('https://example.com/books/{id}', BOOK))
    assert.deepEqual(matcher.cacheStats(), {
      templates: 0,
      templateStates: 0,
      results: 0,
      resultChars: 0,
      capacity: 0,
    })
  })

  it('throws a RangeError for a cacheSize that is not a non-negative integer', () => {
    for (const cacheSize of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => createSelectorMatcher({ cacheSize }), RangeError)
    }
  })
})

describe('checkSelector', () => {
  it('accepts selectors up to MAX_SELECTOR_LENGTH without control characters', () => {
    for (const selector of [
      '*',
      BOOK,
      'https://example.com/books/{id}',
      'a'.repeat(MAX_SELECTOR_LENGTH),
      'café',
    ]) {
      assert.equal(checkSelector(selector), null)
    }
  })

  it('refuses a selector longer than MAX_SELECTOR_LENGTH', () => {
    assert.match(checkSelector('a'.repeat(MAX_SELECTOR_LENGTH + 1)) ?? '', /longer than 2048/)
  })

  it('refuses C0, DEL and C1 control characters, without quoting the selector', () => {
    for (const control of ['\0', '\t', '\n', '\r', '\x1b', '\x7f', '\x85', '\x9f']) {
      const message = checkSelector(`https://example.com/${control}secret`)
      assert.match(message ?? '', /control character/)
      assert.ok(!message?.includes('secret'))
    }
  })
})

describe('checkTemplateBudget', () => {
  const matcher = createSelectorMatcher()
  const heavy = (i: number) => `https://example.com/${i}/{a:80}`
  const statesOf = (selector: string) => matcher.template(selector)?.stateCount ?? 0

  it('lets through templates up to MAX_SUBSCRIPTION_TEMPLATE_STATES together', () => {
    const count = Math.floor(MAX_SUBSCRIPTION_TEMPLATE_STATES / statesOf(heavy(0)))
    const selectors = Array.from({ length: count }, (_, i) => heavy(i))
    assert.equal(checkTemplateBudget(selectors, matcher), null)
    // Exact topics, `*` and invalid templates cost no state.
    assert.equal(
      checkTemplateBudget([...selectors, '*', 'https://example.com/a', '{'], matcher),
      null,
    )
  })

  it('refuses one template more, counting a selector given twice once', () => {
    const count = Math.floor(MAX_SUBSCRIPTION_TEMPLATE_STATES / statesOf(heavy(0)))
    const fits = Array.from({ length: count }, (_, i) => heavy(i))
    assert.equal(checkTemplateBudget([...fits, heavy(0)], matcher), null)
    const problem = checkTemplateBudget([...fits, heavy(count)], matcher)
    assert.match(problem ?? '', /automaton states together, more than 32768/)
    assert.doesNotMatch(problem ?? '', /example\.com/, 'no selector quoted')
  })
})

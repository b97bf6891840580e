import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { resolveUrl, subscriptionUrl } from './subscription-url.ts'

describe('subscriptionUrl', () => {
  it('adds one topic parameter per topic or selector, keeping the existing query', () => {
    const url = subscriptionUrl('https://hub.example/.well-known/mercure?lastEventID=7', [
      'https://example.com/books/{id}',
      '/chat/lobby',
      '*',
    ])
    assert.deepEqual(url.searchParams.getAll('topic'), [
      'https://example.com/books/{id}',
      '/chat/lobby',
      '*',
    ])
    assert.equal(url.searchParams.get('lastEventID'), '7')
    assert.equal(url.origin, 'https://hub.example')
  })

  it('asks the hub for its newest id at connect (cursor=1), unless the URL already says', () => {
    assert.equal(subscriptionUrl('https://hub.example/h', ['a']).searchParams.get('cursor'), '1')
    const given = subscriptionUrl('https://hub.example/h?cursor=0', ['a'])
    assert.deepEqual(given.searchParams.getAll('cursor'), ['0'])
  })

  it('copies a URL object rather than changing it', () => {
    const hub = new URL('https://hub.example/.well-known/mercure')
    subscriptionUrl(hub, ['a'])
    assert.equal(hub.search, '')
  })

  it('adds Mercure 1.0 matchers as match and match_urlpattern parameters, form-encoded', () => {
    const url = subscriptionUrl('https://hub.example/.well-known/mercure', {
      match: ['https://example.com/books/1', 'a b&c=d+e;f%'],
      matchUrlPattern: ['/books/:id', 'https://example.com/chat/*'],
    })
    assert.deepEqual(url.searchParams.getAll('match'), [
      'https://example.com/books/1',
      'a b&c=d+e;f%',
    ])
    assert.deepEqual(url.searchParams.getAll('match_urlpattern'), [
      '/books/:id',
      'https://example.com/chat/*',
    ])
    assert.equal(url.searchParams.has('topic'), false)
    assert.equal(url.searchParams.get('cursor'), '1')
    // [spec] WHATWG application/x-www-form-urlencoded: a space is +, and & = + ; % are escaped.
    assert.match(url.search, /match=a\+b%26c%3Dd%2Be%3Bf%25&/)
  })

  it('takes topics as an option too, and adds gap=1 when the gap signal is asked for', () => {
    const url = subscriptionUrl('https://hub.example/h', { topics: ['/a'], gapSignal: true })
    assert.deepEqual(url.searchParams.getAll('topic'), ['/a'])
    assert.equal(url.searchParams.get('gap'), '1')
    assert.equal(
      subscriptionUrl('https://hub.example/h', { match: ['/a'] }).searchParams.has('gap'),
      false,
    )
  })

  it('leaves a URL without selectors as it is: no cursor', () => {
    assert.equal(subscriptionUrl('https://hub.example/h?x=1', {}).href, 'https://hub.example/h?x=1')
  })

  it('refuses to mix topics with match or matchUrlPattern, in the options or the URL', () => {
    const mixed = /either Mercure 0\.x \(topics\) or Mercure 1\.0/
    assert.throws(
      () => subscriptionUrl('https://hub.example/h', { topics: ['/a'], match: ['/b'] }),
      {
        name: 'TypeError',
        message: mixed,
      },
    )
    assert.throws(
      () => subscriptionUrl('https://hub.example/h', { topics: ['/a'], matchUrlPattern: ['/b'] }),
      { name: 'TypeError', message: mixed },
    )
    assert.throws(() => subscriptionUrl('https://hub.example/h?topic=%2Fa', { match: ['/b'] }), {
      name: 'TypeError',
      message: mixed,
    })
    assert.throws(() => subscriptionUrl('https://hub.example/h?MATCH_EXACT=%2Fa', ['/b']), {
      name: 'TypeError',
      message: mixed,
    })
  })

  it('refuses a Mercure 1.0 URL carrying a token, without quoting it', () => {
    for (const hub of [
      'https://hub.example/h?authorization=secret-token',
      'https://hub.example/h?access_token=secret-token',
    ]) {
      assert.throws(
        () => subscriptionUrl(hub, { match: ['/a'] }),
        (error: Error) =>
          error instanceof TypeError &&
          /never read a token from the URL/.test(error.message) &&
          !error.message.includes('secret-token'),
      )
    }
    // Mercure 0.x hubs read ?authorization= (the legacy way): left as it was.
    const legacy = subscriptionUrl('https://hub.example/h?authorization=t', ['/a'])
    assert.equal(legacy.searchParams.get('authorization'), 't')
  })

  it('refuses a relative URL outside a browser, without quoting the URL', () => {
    assert.throws(
      () => resolveUrl('/.well-known/mercure?authorization=secret'),
      (error: Error) => error instanceof SyntaxError && !error.message.includes('secret'),
    )
  })
})

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

  it('refuses a relative URL outside a browser, without quoting the URL', () => {
    assert.throws(
      () => resolveUrl('/.well-known/mercure?authorization=secret'),
      (error: Error) => error instanceof SyntaxError && !error.message.includes('secret'),
    )
  })
})

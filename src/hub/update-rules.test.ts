import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { checkUpdateRules, isReservedTopic } from './update-rules.ts'

const HUB = 'https://hub.example/.well-known/mercure'

describe('the reserved namespace (Mercure 1.0)', () => {
  it('reserves topics resolving under the hub path, on any host and spelling', () => {
    for (const topic of [
      '',
      'mercure',
      'mercure/subscriptions/foo',
      '?x',
      '#x',
      '/.well-known/mercure',
      '/.well-known/mercure/subscriptions/exact/a/b',
      '/.well-known/%6Dercure/subscriptions/x',
      '/.well-known/%6dercure',
      '/x/../.well-known/mercure/y',
      'https://hub.example/.well-known/mercure/x',
      'http://other.example/.well-known/mercure/x',
      'https://hub.example/.well-known/./mercure/x',
    ]) {
      assert.ok(isReservedTopic(topic, HUB), JSON.stringify(topic))
    }
  })

  it('leaves alone topics outside it', () => {
    for (const topic of [
      'subscriptions/foo',
      'bar',
      '../mercure/x',
      'urn:example:mercure',
      '/.well-known/mercure-dashboard',
      '/foo/.well-known/mercure/bar',
      '/.well-known/MERCURE/x',
      '/.well-known/%2Fmercure',
      'https://example.net/foo/3fa9',
      'http://[::1',
    ]) {
      assert.ok(!isReservedTopic(topic, HUB), JSON.stringify(topic))
    }
  })

  it('refuses *, Cf characters and the mercure type with a message', () => {
    const update = { id: 'a', topics: ['https://example.com/a'], data: '', private: false }
    assert.equal(checkUpdateRules(update, HUB), null)
    assert.match(checkUpdateRules({ ...update, topics: ['*'] }, HUB) ?? '', /wildcard/)
    assert.match(checkUpdateRules({ ...update, topics: ['a', 'mercure'] }, HUB) ?? '', /reserved/)
    assert.match(checkUpdateRules({ ...update, topics: ['a\u200bb'] }, HUB) ?? '', /topic/)
    assert.match(checkUpdateRules({ ...update, id: 'a\u202e' }, HUB) ?? '', /"id"/)
    assert.match(checkUpdateRules({ ...update, type: 'x\u0007' }, HUB) ?? '', /"type"/)
    assert.match(checkUpdateRules({ ...update, type: 'mercure' }, HUB) ?? '', /reserved/)
    assert.equal(checkUpdateRules({ ...update, type: 'Mercure' }, HUB), null)
  })
})

describe('the reserved-namespace shortcut', () => {
  it('answers as resolving every topic would', async () => {
    const fc = await import('fast-check')
    const reference = (topic: string): boolean => {
      let url: URL
      try {
        url = new URL(topic, HUB)
      } catch {
        return false
      }
      const path = url.pathname.replace(/%([0-9a-fA-F]{2})/g, (encoded, hex: string) => {
        const c = String.fromCharCode(Number.parseInt(hex, 16))
        return /[A-Za-z0-9\-._~]/.test(c) ? c : encoded
      })
      return path === '/.well-known/mercure' || path.startsWith('/.well-known/mercure/')
    }
    const pieces = fc.constantFrom(
      '/',
      '.',
      '..',
      '.well-known',
      'mercure',
      'merc',
      'ure',
      '%6D',
      '%6d',
      '%2F',
      '%2E',
      '?',
      '#',
      'https://hub.example',
      'http://other',
      'urn:',
      'x',
      '\\',
      ':',
      '@',
      '%',
    )
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 8 }), (parts) => {
        const topic = parts.join('')
        assert.equal(isReservedTopic(topic, HUB), reference(topic), JSON.stringify(topic))
      }),
      { numRuns: 5000 },
    )
  })
})

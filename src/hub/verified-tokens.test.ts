import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  MAX_CACHED_TOKEN_LENGTH,
  MAX_VERIFIED_TOKENS,
  VERIFIED_TOKEN_TTL_SEC,
  VerifiedTokens,
} from './verified-tokens.ts'

const NOW = 1_800_000_000

describe('VerifiedTokens', () => {
  it('returns the claims until the token expires, within the tolerance', () => {
    const cache = new VerifiedTokens<string>(5)
    cache.set('t', 'claims', { exp: NOW + 10 }, NOW)
    assert.equal(cache.get('t', NOW + 14), 'claims')
    assert.equal(cache.get('t', NOW + 15), undefined)
    assert.equal(cache.get('other', NOW), undefined)
  })

  it('returns nothing before nbf, within the tolerance', () => {
    const cache = new VerifiedTokens<string>(5)
    cache.set('t', 'claims', { nbf: NOW + 20 }, NOW)
    assert.equal(cache.get('t', NOW + 14), undefined)
    assert.equal(cache.get('t', NOW + 15), 'claims')
  })

  it(`forgets a token ${VERIFIED_TOKEN_TTL_SEC} seconds after it was verified`, () => {
    const cache = new VerifiedTokens<string>(0)
    cache.set('t', 'claims', { exp: 'not a number' }, NOW)
    assert.equal(cache.get('t', NOW + VERIFIED_TOKEN_TTL_SEC - 1), 'claims')
    assert.equal(cache.get('t', NOW + VERIFIED_TOKEN_TTL_SEC), undefined)
  })

  it('keeps no key longer than its limit', () => {
    const cache = new VerifiedTokens<string>(0)
    cache.set('a'.repeat(MAX_CACHED_TOKEN_LENGTH), 'kept', {}, NOW)
    cache.set('b'.repeat(MAX_CACHED_TOKEN_LENGTH + 1), 'dropped', {}, NOW)
    assert.equal(cache.get('a'.repeat(MAX_CACHED_TOKEN_LENGTH), NOW), 'kept')
    assert.equal(cache.get('b'.repeat(MAX_CACHED_TOKEN_LENGTH + 1), NOW), undefined)
    const wider = new VerifiedTokens<string>(0, 10_000)
    wider.set('b'.repeat(MAX_CACHED_TOKEN_LENGTH + 1), 'kept', {}, NOW)
    assert.equal(wider.get('b'.repeat(MAX_CACHED_TOKEN_LENGTH + 1), NOW), 'kept')
  })

  it(`keeps at most ${MAX_VERIFIED_TOKENS} tokens, the oldest out first`, () => {
    const cache = new VerifiedTokens<number>(0)
    for (let i = 0; i <= MAX_VERIFIED_TOKENS; i++) cache.set(`t${i}`, i, {}, NOW)
    assert.equal(cache.get('t0', NOW), undefined)
    assert.equal(cache.get('t1', NOW), 1)
    assert.equal(cache.get(`t${MAX_VERIFIED_TOKENS}`, NOW), MAX_VERIFIED_TOKENS)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { keyWarnings } from './key-warnings.ts'

describe('keyWarnings', () => {
  const good = 'k'.repeat(64)

  it('warns once for the well-known Mercure example secret shared by both keys, never quoting it', () => {
    const key = '!ChangeThisMercureHubJWTSecretKey!'
    const warnings = keyWarnings([
      { name: 'the publisher key', key, algorithms: null },
      { name: 'the subscriber key', key, algorithms: null },
    ])
    assert.equal(warnings.length, 1)
    assert.match(warnings[0] ?? '', /^the publisher key and the subscriber key: .*well-known/)
    assert.ok(!warnings[0]?.includes(key))
  })

  it('warns for a secret shorter than its algorithms need: 32, 48 and 64 bytes', () => {
    const [hs256] = keyWarnings([{ name: 'k', key: 'x'.repeat(31), algorithms: null }])
    assert.match(hs256 ?? '', /31 bytes, shorter than the 32 that HS256 needs/)
    const [hs512] = keyWarnings([
      { name: 'k', key: 'x'.repeat(48), algorithms: ['HS384', 'HS512'] },
    ])
    assert.match(hs512 ?? '', /48 bytes, shorter than the 64 that HS512 needs/)
    assert.deepEqual(keyWarnings([{ name: 'k', key: 'x'.repeat(48), algorithms: ['HS384'] }]), [])
  })

  it('says nothing of a good secret, a PEM key, a JWKS URL or a JWKS file', () => {
    for (const key of [
      good,
      '-----BEGIN PUBLIC KEY-----\n…',
      'https://id.example/jwks',
      'keys.json',
    ]) {
      assert.deepEqual(keyWarnings([{ name: 'k', key, algorithms: null }]), [], key)
    }
  })
})

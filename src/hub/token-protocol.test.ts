import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { tokenProtocol } from './token-protocol.ts'

/** A token-shaped string whose header is `header`, as JSON in base64url. */
const token = (header: unknown): string =>
  `${btoa(JSON.stringify(header)).replaceAll('+', '-').replaceAll('/', '_').replaceAll('=', '')}.e30.sig`

describe('tokenProtocol', () => {
  it('reads RFC 9068 access tokens as 1.0 and anything else as 0.x', () => {
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/AT+jwt']) {
      assert.equal(tokenProtocol(token({ alg: 'HS256', typ })), '1.0', typ)
    }
    for (const header of [{ alg: 'HS256' }, { alg: 'HS256', typ: 'JWT' }, { typ: 'at+jwtx' }]) {
      assert.equal(tokenProtocol(token(header)), '0.x', JSON.stringify(header))
    }
    for (const broken of ['', '.', 'nodots', '%%%.e30.x', `${btoa('[1')}.e30.x`]) {
      assert.equal(tokenProtocol(broken), '0.x', broken)
    }
  })

  it('answers the same past its cache of 256 headers, and does not decode a header over 4 KiB', () => {
    const modern = token({ alg: 'HS256', typ: 'at+jwt' })
    const legacy = token({ alg: 'HS256' })
    assert.equal(tokenProtocol(modern), '1.0')
    // 1,000 distinct headers push the first ones out of the cache: they are decoded again.
    for (let i = 0; i < 1000; i++) {
      const typ = i % 2 === 0 ? 'at+jwt' : 'JWT'
      assert.equal(
        tokenProtocol(token({ alg: 'HS256', typ, kid: `k${i}` })),
        i % 2 === 0 ? '1.0' : '0.x',
      )
    }
    assert.equal(tokenProtocol(modern), '1.0')
    assert.equal(tokenProtocol(legacy), '0.x')
    const at = token({ alg: 'HS256', typ: 'at+jwt', kid: 'k'.repeat(3000) })
    assert.ok(at.indexOf('.') <= 4096)
    assert.equal(tokenProtocol(at), '1.0')
    const past = token({ alg: 'HS256', typ: 'at+jwt', kid: 'k'.repeat(3100) })
    assert.ok(past.indexOf('.') > 4096)
    assert.equal(tokenProtocol(past), '0.x')
  })
})

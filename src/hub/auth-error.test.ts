import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AuthError, type AuthErrorCode, quote } from './auth-error.ts'

describe('AuthError', () => {
  const cases: Array<[AuthErrorCode, number, string]> = [
    ['missing-token', 401, 'Bearer realm="ssehub"'],
    ['invalid-token', 401, 'Bearer realm="ssehub", error="invalid_token", error_description="m"'],
    [
      'insufficient-scope',
      403,
      'Bearer realm="ssehub", error="insufficient_scope", error_description="m"',
    ],
    ['malformed', 400, 'Bearer realm="ssehub", error="invalid_request", error_description="m"'],
    ['forbidden-origin', 403, 'Bearer realm="ssehub", error_description="m"'],
  ]
  for (const [code, status, header] of cases) {
    it(`maps ${code} to ${status} and an RFC 6750 challenge`, () => {
      const error = new AuthError(code, 'm')
      assert.equal(error.status, status)
      assert.equal(error.wwwAuthenticate, header)
      assert.equal(error.name, 'AuthError')
    })
  }

  it('keeps quotes, backslashes, CR, LF and non-ASCII out of error_description', () => {
    const error = new AuthError('invalid-token', 'a "b" \\ c\r\nSet-Cookie: x=1 é')
    assert.equal(
      error.wwwAuthenticate,
      `Bearer realm="ssehub", error="invalid_token", error_description="a 'b' ? c??Set-Cookie: x=1 ?"`,
    )
  })

  it('cuts a long error_description', () => {
    const error = new AuthError('invalid-token', 'x'.repeat(1000))
    const description = /error_description="([^"]*)"/.exec(error.wwwAuthenticate)?.[1] ?? ''
    assert.equal(description.length, 300)
    assert.ok(description.endsWith('...'))
    assert.equal(error.message.length, 1000)
  })

  it('recognizes AuthErrors with is(), also structurally', () => {
    assert.equal(AuthError.is(new AuthError('malformed', 'm')), true)
    assert.equal(AuthError.is({ name: 'AuthError', code: 'malformed', status: 400 }), true)
    assert.equal(AuthError.is(new Error('m')), false)
    assert.equal(AuthError.is(null), false)
  })
})

describe('quote', () => {
  it('escapes quotes and line breaks as JSON does', () => {
    assert.equal(quote('a"b\r\nc'), '"a\\"b\\r\\nc"')
  })

  it('cuts long values', () => {
    assert.equal(quote('abcdef', 3), '"abc…"')
  })
})

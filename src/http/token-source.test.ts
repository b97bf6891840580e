import assert from 'node:assert/strict'
import type { IncomingHttpHeaders } from 'node:http'
import { describe, it } from 'node:test'
import { AuthError } from '../hub/auth-error.ts'
import { createJwtVerifier } from '../hub/jwt-verifier.ts'
import { mintToken } from '../hub/mint-token.ts'
import { extractToken } from './token-source.ts'

const SECRET = '!ChangeThisMercureHubJWTSecretKey!'
const HEADER = 'aGVhZGVy.cGF5bG9hZA.c2lnbmF0dXJl'
const QUERY = 'cXVlcnk.cXVlcnk.cXVlcnk'
const COOKIE = 'Y29va2ll.Y29va2ll.Y29va2ll'

/** A request as Node gives it: lower-cased header names and the raw target. */
function request(
  headers: IncomingHttpHeaders = {},
  url = '/.well-known/mercure?topic=a',
): {
  headers: IncomingHttpHeaders
  url: string
} {
  return { headers, url }
}

function assertMalformed(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof AuthError)
    assert.equal(error.status, 400)
    assert.equal(error.code, 'malformed')
    assert.match(error.wwwAuthenticate, /error="invalid_request"/)
    assert.match(error.message, message)
    return true
  })
}

describe('extractToken precedence', () => {
  const all = request(
    { authorization: `Bearer ${HEADER}`, cookie: `mercureAuthorization=${COOKIE}` },
    `/.well-known/mercure?topic=a&authorization=${QUERY}`,
  )

  it('uses the Bearer header over the query parameter and the cookie', () => {
    assert.deepEqual(extractToken(all), { token: HEADER, source: 'header' })
  })

  it('uses the query parameter over the cookie when there is no header', () => {
    const { authorization: _, ...headers } = all.headers
    assert.deepEqual(extractToken({ ...all, headers }), { token: QUERY, source: 'query' })
  })

  it('uses the cookie when there is neither header nor query parameter', () => {
    const req = request({ cookie: `mercureAuthorization=${COOKIE}` })
    assert.deepEqual(extractToken(req), { token: COOKIE, source: 'cookie' })
  })

  it('returns null for an anonymous request', () => {
    assert.equal(extractToken(request()), null)
    assert.equal(extractToken(request({}, '/.well-known/mercure')), null)
  })

  it('does not rescue an invalid Bearer token with a valid cookie', async () => {
    const valid = await mintToken({ key: SECRET, subscribe: ['*'] })
    const req = request({
      authorization: 'Bearer bm9wZQ.bm9wZQ.bm9wZQ',
      cookie: `mercureAuthorization=${valid}`,
    })
    const found = extractToken(req)
    assert.deepEqual(found, { token: 'bm9wZQ.bm9wZQ.bm9wZQ', source: 'header' })
    const verifier = createJwtVerifier({ key: SECRET })
    await assert.rejects(verifier.verify(found?.token ?? ''), (error: unknown) => {
      assert.ok(error instanceof AuthError)
      assert.equal(error.status, 401)
      assert.ok(!error.message.includes(valid))
      return true
    })
  })
})

describe('extractToken Authorization header', () => {
  it('accepts the Bearer scheme in any case and with extra spaces', () => {
    const found = extractToken(request({ authorization: `  bEaReR   ${HEADER}  ` }))
    assert.deepEqual(found, { token: HEADER, source: 'header' })
  })

  it('skips another scheme (Basic auth of a proxy) and falls back to the cookie', () => {
    const req = request({
      authorization: 'Basic dXNlcjpwYXNz',
      cookie: `mercureAuthorization=${COOKIE}`,
    })
    assert.deepEqual(extractToken(req), { token: COOKIE, source: 'cookie' })
  })

  it('refuses a Bearer header without a token with 400', () => {
    assertMalformed(() => extractToken(request({ authorization: 'Bearer' })), /no token/)
    assertMalformed(() => extractToken(request({ authorization: 'Bearer   ' })), /no token/)
  })

  it('refuses a Bearer value that is not a single token with 400', () => {
    assertMalformed(
      () => extractToken(request({ authorization: `Bearer ${HEADER} ${HEADER}` })),
      /not a single token/,
    )
  })

  it('does not echo the token in its errors', () => {
    const token = 'abc.def.ghi,jkl'
    assert.throws(
      () => extractToken(request({ authorization: `Bearer ${token}` })),
      (error: unknown) => error instanceof AuthError && !error.message.includes(token),
    )
  })
})

describe('extractToken authorization query parameter', () => {
  it('decodes the parameter like any query parameter', () => {
    const found = extractToken(
      request({}, `/.well-known/mercure?authorization=${encodeURIComponent(QUERY)}&topic=a`),
    )
    assert.deepEqual(found, { token: QUERY, source: 'query' })
  })

  it('refuses a repeated parameter with 400', () => {
    assertMalformed(
      () => extractToken(request({}, `/?authorization=${QUERY}&authorization=${QUERY}`)),
      /repeated/,
    )
  })

  it('refuses an empty parameter with 400', () => {
    assertMalformed(() => extractToken(request({}, '/?topic=a&authorization=')), /empty/)
  })
})

describe('extractToken cookie', () => {
  const cookie = (header: string, name?: string) =>
    extractToken(request({ cookie: header }), name)?.token ?? null

  it('finds the cookie among others, with or without spaces', () => {
    assert.equal(cookie(`a=1; mercureAuthorization=${COOKIE}; b=2`), COOKIE)
    assert.equal(cookie(`a=1;mercureAuthorization=${COOKIE};b=2`), COOKIE)
  })

  it('does not match a cookie whose name merely contains the name', () => {
    assert.equal(cookie(`xmercureAuthorization=${COOKIE}; mercureAuthorizationX=${COOKIE}`), null)
  })

  it('is case-sensitive in the name (RFC 6265)', () => {
    assert.equal(cookie(`MercureAuthorization=${COOKIE}`), null)
  })

  it('keeps the first of duplicate cookies (the most specific path)', () => {
    assert.equal(cookie(`mercureAuthorization=${COOKIE}; mercureAuthorization=${QUERY}`), COOKIE)
  })

  it('strips quotes and percent-decoding', () => {
    assert.equal(cookie(`mercureAuthorization="${COOKIE}"`), COOKIE)
    assert.equal(cookie(`mercureAuthorization=${COOKIE.replaceAll('.', '%2E')}`), COOKIE)
  })

  it('keeps a value with broken percent-encoding as it is, for the verifier to refuse', () => {
    assert.equal(cookie('mercureAuthorization=%E0%A4%A'), '%E0%A4%A')
  })

  it('treats an empty cookie (a logout) as no token', () => {
    assert.equal(cookie('mercureAuthorization=; other=1'), null)
    assert.equal(cookie('mercureAuthorization'), null)
    assert.equal(cookie(''), null)
  })

  it('reads a custom cookie name', () => {
    assert.equal(cookie(`mercureAuthorization=${QUERY}; hubToken=${COOKIE}`, 'hubToken'), COOKIE)
  })

  it('reads cookies split over several header fields (HTTP/2)', () => {
    const found = extractToken(
      request({ cookie: ['a=1', `mercureAuthorization=${COOKIE}`] as unknown as string }),
    )
    assert.deepEqual(found, { token: COOKIE, source: 'cookie' })
  })
})

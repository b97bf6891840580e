import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AuthError } from './auth-error.ts'
import { canPublish, checkPublishOrigin } from './authorize.ts'
import type { MercureClaims } from './jwt-verifier.ts'

/** The test stand-in for the topic-selector matcher: `*` and exact equality only. */
const matches = (selector: string, topic: string): boolean => selector === '*' || selector === topic

function claims(grants: Partial<MercureClaims>): MercureClaims {
  return { publish: undefined, subscribe: undefined, payload: undefined, exp: undefined, ...grants }
}

const BOOK_1 = 'https://example.com/books/1'
const BOOK_2 = 'https://example.com/books/2'

describe('canPublish', () => {
  it('allows topics that all match a publish selector', () => {
    assert.equal(canPublish(claims({ publish: [BOOK_1, BOOK_2] }), [BOOK_1, BOOK_2], matches), null)
    assert.equal(canPublish(claims({ publish: ['*'] }), [BOOK_1, 'urn:x'], matches), null)
  })

  it('refuses a token without mercure.publish with 403 insufficient_scope', () => {
    const error = canPublish(claims({ subscribe: ['*'] }), [BOOK_1], matches)
    assert.ok(error instanceof AuthError)
    assert.equal(error.status, 403)
    assert.equal(error.code, 'insufficient-scope')
    assert.equal(error.message, 'The token has no mercure.publish claim, so it may not publish.')
  })

  it('refuses an empty mercure.publish with 403', () => {
    const error = canPublish(claims({ publish: [] }), [BOOK_1], matches)
    assert.equal(error?.status, 403)
    assert.match(error?.message ?? '', /claim is empty/)
  })

  it('names the first topic, canonical or alternate, that no selector allows', () => {
    const error = canPublish(claims({ publish: [BOOK_1] }), [BOOK_1, BOOK_2, 'urn:z'], matches)
    assert.equal(error?.status, 403)
    assert.equal(
      error?.message,
      `The token's mercure.publish claim does not allow the topic "${BOOK_2}".`,
    )
    assert.match(error?.wwwAuthenticate ?? '', /error="insufficient_scope"/)
  })

  it('refuses a request without a token with 401 and no error code', () => {
    const error = canPublish(null, [BOOK_1], matches)
    assert.equal(error?.status, 401)
    assert.equal(error?.code, 'missing-token')
    assert.equal(error?.wwwAuthenticate, 'Bearer realm="ssehub"')
  })

  it('quotes a hostile topic so it cannot break the message or the header', () => {
    const error = canPublish(claims({ publish: [BOOK_1] }), ['x"\r\nSet-Cookie: a=b'], matches)
    assert.ok(error !== null)
    assert.ok(!/[\r\n]/.test(error.message))
    assert.ok(!/[\r\n]/.test(error.wwwAuthenticate))
    assert.equal(error.wwwAuthenticate.split('"').length, 7, 'only the quotes of three attributes')
  })
})

describe('checkPublishOrigin', () => {
  const allowed = ['https://app.example.com', 'http://localhost:3000']

  it('allows a listed Origin', () => {
    assert.equal(checkPublishOrigin({ origin: 'https://app.example.com' }, allowed), null)
  })

  it('compares origins, not spellings (case, default port)', () => {
    assert.equal(checkPublishOrigin({ origin: 'HTTPS://App.Example.com:443' }, allowed), null)
  })

  it('refuses an unlisted Origin with 403, naming it and the header', () => {
    const error = checkPublishOrigin({ origin: 'https://evil.example' }, allowed)
    assert.ok(error instanceof AuthError)
    assert.equal(error.status, 403)
    assert.equal(error.code, 'forbidden-origin')
    assert.match(error.message, /^The origin "https:\/\/evil\.example" \(from the Origin header\)/)
    assert.match(error.message, /CSRF/)
  })

  it('falls back to the origin of the Referer', () => {
    const referer = 'https://app.example.com/admin/books?id=1'
    assert.equal(checkPublishOrigin({ referer }, allowed), null)
    const error = checkPublishOrigin({ referer: 'https://evil.example/page' }, allowed)
    assert.match(error?.message ?? '', /"https:\/\/evil\.example" \(from the Referer header\)/)
  })

  it('prefers Origin over Referer', () => {
    const headers = { origin: 'https://evil.example', referer: 'https://app.example.com/' }
    assert.equal(checkPublishOrigin(headers, allowed)?.status, 403)
  })

  it('refuses a request with neither header, naming both', () => {
    const error = checkPublishOrigin({}, allowed)
    assert.equal(error?.status, 403)
    assert.match(error?.message ?? '', /requires an Origin or Referer header/)
  })

  it('refuses a Referer that is not a URL', () => {
    assert.match(checkPublishOrigin({ referer: 'not a url' }, allowed)?.message ?? '', /not a URL/)
  })

  it('refuses the opaque origin null unless every origin is allowed', () => {
    assert.equal(checkPublishOrigin({ origin: 'null' }, [...allowed, 'null'])?.status, 403)
    assert.equal(checkPublishOrigin({ origin: 'null' }, '*'), null)
  })

  it('allows any origin with *, but still requires one of the headers', () => {
    assert.equal(checkPublishOrigin({ origin: 'https://anywhere.example' }, '*'), null)
    assert.equal(checkPublishOrigin({ origin: 'https://anywhere.example' }, ['*']), null)
    assert.equal(checkPublishOrigin({}, '*')?.status, 403)
  })
})

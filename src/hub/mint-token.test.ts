import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { createAccessTokenVerifier } from './access-token-verifier.ts'
import { MERCURE_DETAIL_TYPE } from './authorization-details.ts'
import { createJwtVerifier } from './jwt-verifier.ts'
import { URL_PATTERN_MARK } from './mercure-matcher.ts'
import { mintAccessToken, mintToken } from './mint-token.ts'

const SECRET = '!ChangeThisMercureHubJWTSecretKey!'
const nowSec = (): number => Math.floor(Date.now() / 1000)

/** The claims of a token, decoded without verification (for asserting on `iat`/`sub`). */
function decodeClaims(token: string): {
  exp?: number
  iat?: number
  sub?: string
  mercure?: unknown
} {
  return JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
}

describe('mintToken', () => {
  it('mints a token the verifier accepts, with the mercure claim', async () => {
    const token = await mintToken({
      key: SECRET,
      publish: ['https://example.com/books/{id}'],
      subscribe: ['*'],
      payload: { user: 'https://example.com/users/1' },
    })
    const claims = await createJwtVerifier({ key: SECRET }).verify(token)
    assert.deepEqual(claims.publish, ['https://example.com/books/{id}'])
    assert.deepEqual(claims.subscribe, ['*'])
    assert.deepEqual(claims.payload, { user: 'https://example.com/users/1' })
  })

  it('expires after one hour by default', async () => {
    const before = nowSec()
    const claims = decodeClaims(await mintToken({ key: SECRET }))
    assert.ok(typeof claims.exp === 'number')
    assert.ok(claims.exp >= before + 3600 && claims.exp <= nowSec() + 3600)
    assert.ok(typeof claims.iat === 'number')
    assert.deepEqual(claims.mercure, {})
  })

  it('reads expiresIn as seconds or a duration, and null as no expiry', async () => {
    const exp = async (expiresIn: string | number | null) =>
      decodeClaims(await mintToken({ key: SECRET, expiresIn })).exp as number | undefined
    const now = nowSec()
    for (const [input, seconds] of [
      [90, 90],
      ['90', 90],
      ['15m', 900],
      ['2h', 7200],
      ['7d', 604_800],
    ] as const) {
      const value = await exp(input)
      assert.ok(value !== undefined && Math.abs(value - (now + seconds)) <= 2, `${input}`)
    }
    assert.equal(await exp(null), undefined)
  })

  it('refuses an expiresIn it cannot read', async () => {
    for (const expiresIn of ['soon', '-5m', 0, -1, 1.5]) {
      await assert.rejects(mintToken({ key: SECRET, expiresIn }), /expiresIn must be/)
    }
  })

  it('sets sub when a subject is given', async () => {
    const claims = decodeClaims(await mintToken({ key: SECRET, subject: 'alice' }))
    assert.equal(claims.sub, 'alice')
  })

  it('signs with a PEM private key, verifiable with its public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const token = await mintToken({ key: privatePem, publish: ['*'] })
    assert.equal(
      JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).alg,
      'ES256',
    )
    assert.deepEqual((await createJwtVerifier({ key: publicPem }).verify(token)).publish, ['*'])
    assert.deepEqual((await createJwtVerifier({ key: privatePem }).verify(token)).publish, ['*'])
  })

  it('refuses selectors that are not strings, or too many of them', async () => {
    await assert.rejects(
      mintToken({ key: SECRET, publish: [1] as unknown as string[] }),
      /publish must be an array of topic selectors/,
    )
    await assert.rejects(
      mintToken({ key: SECRET, subscribe: Array.from({ length: 1001 }, String) }),
      /more than 1000 selectors/,
    )
  })

  it('refuses an algorithm that does not fit the key, without echoing the key', async () => {
    await assert.rejects(mintToken({ key: SECRET, alg: 'RS256' }), (error: unknown) => {
      assert.ok(error instanceof Error)
      assert.match(error.message, /cannot verify RS256/)
      assert.ok(!error.message.includes(SECRET))
      return true
    })
  })
})

/** The claims of a 1.0 token, decoded without verification. */
interface AccessTokenClaims {
  iss?: unknown
  aud?: unknown
  sub?: unknown
  client_id?: unknown
  jti?: unknown
  iat?: unknown
  exp?: unknown
  mercure?: unknown
  authorization_details?: unknown
}

describe('mintAccessToken', () => {
  const ISSUER = 'https://example.com'
  const HUB = 'https://example.com/.well-known/mercure'
  const CONTEXT = { audience: HUB, hubUrl: HUB }
  const header = (token: string) =>
    JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString())
  const payloadOf = (token: string): AccessTokenClaims =>
    JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString())
  const verifier = (role: 'publisher' | 'subscriber' = 'publisher', key = SECRET) =>
    createAccessTokenVerifier({ issuers: [{ issuer: ISSUER, key }], role })

  it('mints an at+jwt token the 1.0 verifier accepts, with the grants asked for', async () => {
    const token = await mintAccessToken({
      key: SECRET,
      issuer: ISSUER,
      audience: HUB,
      publish: [
        { match: 'https://example.com/books/1' },
        { match: '/books/:id', match_type: 'urlpattern' },
      ],
      subscribe: [{ match: 'https://example.com/users/ada/{x}', match_type: 'exact' }],
      payload: { name: 'Ada' },
      subject: 'ada',
      clientId: 'the-app',
    })
    assert.deepEqual(header(token), { alg: 'HS256', typ: 'at+jwt' })
    const claims = await verifier().verify(token, CONTEXT)
    assert.equal(claims.protocol, '1.0')
    assert.deepEqual(claims.publish, [
      'https://example.com/books/1',
      `${URL_PATTERN_MARK}${HUB}${URL_PATTERN_MARK}/books/:id`,
    ])
    assert.deepEqual(claims.subscribePayloads, [
      { selectors: ['\u0001https://example.com/users/ada/{x}'], payload: { name: 'Ada' } },
    ])
    const payload = payloadOf(token)
    assert.equal(payload.iss, ISSUER)
    assert.equal(payload.aud, HUB)
    assert.equal(payload.sub, 'ada')
    assert.equal(payload.client_id, 'the-app')
    assert.match(String(payload.jti), /^[0-9a-f-]{36}$/)
    assert.equal(payload.mercure, undefined)
    assert.deepEqual(payload.authorization_details, [
      {
        type: MERCURE_DETAIL_TYPE,
        actions: ['publish'],
        topics: [
          { match: 'https://example.com/books/1' },
          { match: '/books/:id', match_type: 'urlpattern' },
        ],
      },
      {
        type: MERCURE_DETAIL_TYPE,
        actions: ['subscribe'],
        topics: [{ match: 'https://example.com/users/ada/{x}' }],
        payload: { name: 'Ada' },
      },
    ])
  })

  it('expires after one hour by default, with iat and a jti unique to each token', async () => {
    const before = nowSec()
    const options = { key: SECRET, issuer: ISSUER, audience: HUB }
    const first = payloadOf(await mintAccessToken(options))
    const second = payloadOf(await mintAccessToken(options))
    assert.ok(typeof first.iat === 'number' && first.iat >= before)
    assert.equal((first.exp as number) - (first.iat as number), 3600)
    assert.notEqual(first.jti, second.jti)
    assert.deepEqual(first.authorization_details, [])
    const claims = await verifier().verify(await mintAccessToken(options), CONTEXT)
    assert.equal(claims.publish, undefined)
  })

  it('writes several audiences as an array, each accepted', async () => {
    const other = 'https://hub.example.org/.well-known/mercure'
    const token = await mintAccessToken({
      key: SECRET,
      issuer: ISSUER,
      audience: [HUB, other],
      subscribe: [{ match: '*' }],
      expiresIn: '15m',
    })
    assert.deepEqual(payloadOf(token).aud, [HUB, other])
    const subscriber = verifier('subscriber')
    assert.deepEqual(
      (await subscriber.verify(token, { audience: other, hubUrl: other })).subscribe,
      ['*'],
    )
  })

  it('signs with a PEM private key, verifiable with its public key', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
    const token = await mintAccessToken({
      key: privatePem,
      issuer: ISSUER,
      audience: HUB,
      publish: [{ match: '*' }],
    })
    assert.deepEqual(header(token), { alg: 'ES256', typ: 'at+jwt' })
    assert.deepEqual((await verifier('publisher', publicPem).verify(token, CONTEXT)).publish, ['*'])
  })

  it('refuses what a hub would refuse, and tokens that never expire', async () => {
    const base = { key: SECRET, issuer: ISSUER, audience: HUB }
    const many = (count: number) => Array.from({ length: count }, (_, i) => ({ match: `t${i}` }))
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ issuer: '' }, /issuer must be a non-empty string/],
      [{ audience: '' }, /audience must be/],
      [{ audience: [] }, /audience must be/],
      [{ expiresIn: null }, /must expire/],
      [{ expiresIn: 'soon' }, /expiresIn must be/],
      [{ publish: [{ match: '' }] }, /publish\[0\]\.match is empty/],
      [{ publish: ['*'] }, /publish\[0\] must be a topic matcher/],
      [{ subscribe: [{ match: 'a\nb' }] }, /subscribe\[0\]\.match contains a control/],
      [
        { publish: [{ match: 'a', match_type: 'URLPattern' }] },
        /match_type must be "exact" or "urlpattern"/,
      ],
      [{ publish: many(60), subscribe: many(41) }, /more than 100 matchers/],
      [{ subscribe: [{ match: '*' }], payload: ['x'] }, /payload must be a JSON object/],
      [{ payload: { a: 1 } }, /payload goes with subscribe grants/],
    ]
    for (const [options, message] of cases) {
      await assert.rejects(mintAccessToken({ ...base, ...options } as never), message)
    }
    const token = await mintAccessToken({ ...base, publish: many(50), subscribe: many(50) })
    assert.equal((await verifier().verify(token, CONTEXT)).publish?.length, 50)
  })
})

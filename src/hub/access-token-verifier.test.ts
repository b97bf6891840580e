import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { inspect } from 'node:util'
import {
  type CryptoKey,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
} from 'jose'
import {
  type AccessTokenContext,
  type AccessTokenVerifierOptions,
  createAccessTokenVerifier,
  type TrustedIssuer,
} from './access-token-verifier.ts'
import { AuthError } from './auth-error.ts'
import { MERCURE_DETAIL_TYPE } from './authorization-details.ts'
import { URL_PATTERN_MARK } from './mercure-matcher.ts'
import { createSelectorMatcher } from './topic-selector.ts'

/** The conformance suite's secret and hub (draft-08 conformance tests, §13.1 of our checklist). */
const SECRET = '!ChangeThisMercureHubJWTSecretKey!'
const OTHER_SECRET = 'another-secret-that-is-long-enough-for-hs256'
const ISSUER = 'https://localhost'
const HUB = 'https://localhost/.well-known/mercure'
const CONTEXT: AccessTokenContext = { audience: HUB, hubUrl: HUB }
const nowSec = (): number => Math.floor(Date.now() / 1000)

/** Every string that must never appear in an error: filled as tokens are made. */
const secrets: string[] = [SECRET, OTHER_SECRET]

const base64url = (json: unknown): string => Buffer.from(JSON.stringify(json)).toString('base64url')

/** An HS256 token built by hand, byte for byte, as the conformance suite's. */
function handmade(header: object, claims: object, secret = SECRET): string {
  const input = `${base64url(header)}.${base64url(claims)}`
  const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`
  secrets.push(token)
  return token
}

const GRANTS = [
  { type: MERCURE_DETAIL_TYPE, actions: ['publish'], topics: [{ match: '*' }] },
  { type: MERCURE_DETAIL_TYPE, actions: ['subscribe'], topics: [{ match: '*' }] },
]

/** The conformance suite's publisher token, exactly (no sub, iat, jti, client_id or nbf). */
const CONFORMANCE_TOKEN = handmade(
  { alg: 'HS256', typ: 'at+jwt' },
  { aud: HUB, iss: ISSUER, authorization_details: GRANTS, exp: 4102444800 },
)

/** Claims of a valid token, with `overrides` (`undefined` removes a claim). */
function claims(overrides: Record<string, unknown> = {}): JWTPayload {
  const base: Record<string, unknown> = {
    iss: ISSUER,
    aud: HUB,
    exp: nowSec() + 600,
    authorization_details: GRANTS,
    ...overrides,
  }
  for (const [name, value] of Object.entries(base)) if (value === undefined) delete base[name]
  return base
}

/** Signs `payload` with jose, `header` defaulting to `{ alg: 'HS256', typ: 'at+jwt' }`. */
async function sign(
  payload: JWTPayload,
  key: CryptoKey | Uint8Array | string = SECRET,
  header: { alg?: string; typ?: string | undefined; kid?: string } = {},
): Promise<string> {
  // `typ: undefined` leaves it out.
  const { typ, ...rest } = { typ: 'at+jwt', ...header }
  const protectedHeader = { alg: 'HS256', ...rest, ...(typ === undefined ? {} : { typ }) }
  const secret = typeof key === 'string' ? new TextEncoder().encode(key) : key
  const token = await new SignJWT(payload).setProtectedHeader(protectedHeader).sign(secret)
  secrets.push(token)
  return token
}

const verifier = (
  issuers: readonly TrustedIssuer[] = [{ issuer: ISSUER }],
  options: Partial<AccessTokenVerifierOptions> = {},
) => createAccessTokenVerifier({ issuers, role: 'publisher', defaultKey: SECRET, ...options })

/** Asserts a 401 invalid_token `AuthError` matching `message`, leaking no token or key. */
async function assertInvalid(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => assert.fail('expected the token to be refused'),
    (caught: unknown) => caught,
  )
  assert.ok(AuthError.is(error), `expected an AuthError, got ${inspect(error)}`)
  assert.equal(error.status, 401)
  assert.equal(error.code, 'invalid-token')
  assert.match(error.wwwAuthenticate, /error="invalid_token"/)
  assert.match(error.message, message)
  const text = `${inspect(error, { depth: 10 })}${error.wwwAuthenticate}`
  for (const secret of secrets) assert.ok(!text.includes(secret), `leaked: ${error.message}`)
}

describe('createAccessTokenVerifier', () => {
  it('accepts the conformance token, which grants publish * (and subscribe *)', async () => {
    const result = await verifier().verify(CONFORMANCE_TOKEN, CONTEXT)
    assert.deepEqual(result, {
      protocol: '1.0',
      publish: ['*'],
      subscribe: ['*'],
      payload: undefined,
      subscribePayloads: [{ selectors: ['*'], payload: undefined }],
      exp: 4102444800,
    })
  })

  it('accepts tokens with the claims issuers should add (sub, client_id, iat, jti)', async () => {
    const token = await sign(claims({ sub: 'ada', client_id: 'app', iat: nowSec(), jti: 'j1' }))
    assert.deepEqual((await verifier().verify(token, CONTEXT)).publish, ['*'])
  })

  it('grants nothing to a valid token without authorization_details', async () => {
    const result = await verifier().verify(
      await sign(claims({ authorization_details: undefined })),
      CONTEXT,
    )
    assert.equal(result.publish, undefined)
    assert.equal(result.subscribe, undefined)
    assert.deepEqual(result.subscribePayloads, [])
  })

  describe('typ', () => {
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt', 'Application/At+JWT']) {
      it(`accepts typ ${typ}`, async () => {
        const token = await sign(claims(), SECRET, { typ })
        assert.deepEqual((await verifier().verify(token, CONTEXT)).publish, ['*'])
      })
    }
    for (const typ of ['JWT', 'jwt', 'at+jwt ', 'application/jwt', 'x/at+jwt', undefined]) {
      it(`refuses typ ${typ ?? '(missing)'}`, async () => {
        const token = await sign(claims(), SECRET, { typ })
        await assertInvalid(verifier().verify(token, CONTEXT), /not a Mercure 1\.0 access token/)
      })
    }

    it('refuses a 0.x token signed with the same key', async () => {
      const token = await sign({ mercure: { publish: ['*'] } }, SECRET, { typ: 'JWT' })
      await assertInvalid(verifier().verify(token, CONTEXT), /\(typ "JWT"; expected "at\+jwt"\)/)
    })
  })

  describe('aud', () => {
    it('accepts aud as a string or an array holding the resource identifier', async () => {
      for (const aud of [HUB, [HUB], ['https://other.example', HUB]]) {
        const token = await sign(claims({ aud }))
        assert.deepEqual((await verifier().verify(token, CONTEXT)).publish, ['*'])
      }
    })

    it('refuses a missing aud, or one without the resource identifier exactly', async () => {
      await assertInvalid(
        verifier().verify(await sign(claims({ aud: undefined })), CONTEXT),
        /no "aud"/,
      )
      for (const aud of ['https://other.example', `${HUB}/`, HUB.toUpperCase(), [], ['x']]) {
        const token = await sign(claims({ aud }))
        await assertInvalid(verifier().verify(token, CONTEXT), /"aud" claim does not contain/)
      }
    })
  })

  describe('exp and nbf', () => {
    it('refuses a token without exp', async () => {
      const token = await sign(claims({ exp: undefined }))
      await assertInvalid(verifier().verify(token, CONTEXT), /no "exp" claim/)
    })

    it('refuses an expired token, and accepts one within the clock tolerance', async () => {
      const token = await sign(claims({ exp: nowSec() - 10 }))
      await assertInvalid(verifier().verify(token, CONTEXT), /expired at/)
      const tolerant = verifier(undefined, { clockToleranceSec: 60 })
      assert.deepEqual((await tolerant.verify(token, CONTEXT)).publish, ['*'])
    })

    it('refuses a token whose nbf is in the future, and accepts a past one', async () => {
      const future = await sign(claims({ nbf: nowSec() + 600 }))
      await assertInvalid(verifier().verify(future, CONTEXT), /not valid before/)
      const past = await sign(claims({ nbf: nowSec() - 600 }))
      assert.deepEqual((await verifier().verify(past, CONTEXT)).publish, ['*'])
    })

    it('refuses a cached token once it has expired', async (t) => {
      t.mock.timers.enable({ apis: ['Date'], now: Date.now() })
      const token = await sign(claims({ exp: nowSec() + 5 }))
      const cached = verifier()
      await cached.verify(token, CONTEXT)
      t.mock.timers.tick(10_000)
      await assertInvalid(cached.verify(token, CONTEXT), /expired at/)
    })
  })

  describe('iss and keys', () => {
    it('refuses an unknown or missing iss', async () => {
      const unknown = await sign(claims({ iss: 'https://evil.example' }))
      await assertInvalid(
        verifier().verify(unknown, CONTEXT),
        /issuer "https:\/\/evil\.example" is not a trusted issuer/,
      )
      const missing = await sign(claims({ iss: undefined }))
      await assertInvalid(verifier().verify(missing, CONTEXT), /no "iss" claim/)
      await assertInvalid(verifier().verify(await sign(claims({ iss: 7 })), CONTEXT), /no "iss"/)
      const prefix = await sign(claims({ iss: `${ISSUER}/` }))
      await assertInvalid(verifier().verify(prefix, CONTEXT), /not a trusted issuer/)
    })

    it('checks a signature only with the keys of the token iss', async () => {
      const a = 'https://a.example'
      const b = 'https://b.example'
      const both = verifier([
        { issuer: a, key: SECRET },
        { issuer: b, key: OTHER_SECRET },
      ])
      assert.deepEqual((await both.verify(await sign(claims({ iss: a })), CONTEXT)).publish, ['*'])
      const ofB = await sign(claims({ iss: b }), OTHER_SECRET)
      assert.deepEqual((await both.verify(ofB, CONTEXT)).publish, ['*'])
      const forged = await sign(claims({ iss: a }), OTHER_SECRET)
      await assertInvalid(both.verify(forged, CONTEXT), /signature does not match/)
    })

    it("uses the role's key, then key, then the hub's key", async () => {
      const issuers: TrustedIssuer[] = [
        { issuer: 'https://roles.example', publisherKey: OTHER_SECRET, key: SECRET },
        { issuer: 'https://key.example', key: OTHER_SECRET },
        { issuer: 'https://hub-key.example' },
      ]
      const publisher = verifier(issuers, { defaultKey: OTHER_SECRET })
      const subscriber = verifier(issuers, { role: 'subscriber', defaultKey: OTHER_SECRET })
      const roles = await sign(claims({ iss: 'https://roles.example' }), OTHER_SECRET)
      assert.ok(await publisher.verify(roles, CONTEXT))
      await assertInvalid(subscriber.verify(roles, CONTEXT), /signature does not match/)
      for (const iss of ['https://key.example', 'https://hub-key.example']) {
        assert.ok(await subscriber.verify(await sign(claims({ iss }), OTHER_SECRET), CONTEXT))
      }
    })

    it('refuses every token when no issuer is trusted', async () => {
      await assertInvalid(verifier([]).verify(CONFORMANCE_TOKEN, CONTEXT), /not a trusted issuer/)
    })
  })

  describe('alg', () => {
    it('refuses an unsigned token (alg none), whatever its case', async () => {
      for (const alg of ['none', 'NoNe']) {
        const token = `${base64url({ alg, typ: 'at+jwt' })}.${base64url(claims())}.`
        secrets.push(token)
        await assertInvalid(verifier().verify(token, CONTEXT), /unsigned \(alg "none"\)/)
      }
    })

    it("refuses an algorithm outside the issuer's allow-list", async () => {
      const token = await sign(claims(), `${SECRET}${SECRET}`, { alg: 'HS512' })
      await assertInvalid(verifier().verify(token, CONTEXT), /HS512, which is not allowed/)
      const hs512 = verifier([{ issuer: ISSUER, key: `${SECRET}${SECRET}`, algorithms: ['HS512'] }])
      assert.ok(await hs512.verify(token, CONTEXT))
    })

    it('applies defaultAlgorithms to the issuers using the hub key only', async () => {
      const token = await sign(claims())
      const hs384 = verifier(undefined, {
        defaultKey: `${SECRET}${SECRET}`,
        defaultAlgorithms: ['HS384'],
      })
      await assertInvalid(hs384.verify(token, CONTEXT), /HS256, which is not allowed/)
      const own = verifier([{ issuer: ISSUER, key: SECRET }], { defaultAlgorithms: ['HS384'] })
      assert.ok(await own.verify(token, CONTEXT))
    })
  })

  const tmp = mkdtempSync(join(tmpdir(), 'ssehub-access-token-'))
  after(() => rmSync(tmp, { recursive: true, force: true }))

  for (const alg of ['RS256', 'ES256'] as const) {
    describe(`with ${alg} keys`, async () => {
      const pair = await generateKeyPair(alg, { extractable: true })
      const other = await generateKeyPair(alg, { extractable: true })
      const publicPem = await exportSPKI(pair.publicKey)
      const jwksFile = join(tmp, `${alg}.json`)
      writeFileSync(
        jwksFile,
        JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'k1' }] }),
      )

      for (const [label, key] of [
        ['a PEM public key', publicPem],
        ['a JWKS file', jwksFile],
      ] as const) {
        it(`accepts a token signed by the issuer, its key being ${label}`, async () => {
          const trusted = verifier([{ issuer: ISSUER, key }])
          const token = await sign(claims(), pair.privateKey, { alg, kid: 'k1' })
          assert.deepEqual((await trusted.verify(token, CONTEXT)).publish, ['*'])
          const forged = await sign(claims(), other.privateKey, { alg, kid: 'k1' })
          await assertInvalid(trusted.verify(forged, CONTEXT), /signature does not match/)
        })
      }

      it('refuses an HS256 token signed with the public key text (algorithm confusion)', async () => {
        const token = await sign(claims(), publicPem, { alg: 'HS256' })
        const trusted = verifier([{ issuer: ISSUER, key: publicPem }])
        await assertInvalid(trusted.verify(token, CONTEXT), /HS256, which is not allowed/)
      })
    })
  }

  describe('authorization_details', () => {
    it('refuses the whole token for one bad Mercure detail', async () => {
      const bad = { type: MERCURE_DETAIL_TYPE, actions: ['subscribe'], topics: ['*'] }
      const token = await sign(claims({ authorization_details: [...GRANTS, bad] }))
      await assertInvalid(
        verifier().verify(token, CONTEXT),
        /authorization_details\[2\]\.topics\[0\] must be a topic matcher/,
      )
    })

    it('resolves relative URL patterns against the context hub URL, cached per context', async () => {
      const details = [
        {
          type: MERCURE_DETAIL_TYPE,
          actions: ['publish'],
          topics: [{ match: '/books/:id', match_type: 'urlpattern' }],
        },
      ]
      const token = await sign(
        claims({
          aud: [HUB, 'https://other.example/.well-known/mercure'],
          authorization_details: details,
        }),
      )
      const shared = verifier()
      const here = (await shared.verify(token, CONTEXT)).publish?.[0] as string
      const otherHub = 'https://other.example/.well-known/mercure'
      const there = (await shared.verify(token, { audience: otherHub, hubUrl: otherHub }))
        .publish?.[0] as string
      assert.equal(here, `${URL_PATTERN_MARK}${HUB}${URL_PATTERN_MARK}/books/:id`)
      const { matches } = createSelectorMatcher()
      assert.ok(matches(here, 'https://localhost/books/1'))
      assert.ok(!matches(there, 'https://localhost/books/1'))
      assert.ok(matches(there, 'https://other.example/books/1'))
    })

    it('checks aud again for a cached token presented in another context', async () => {
      const shared = verifier()
      assert.ok(await shared.verify(CONFORMANCE_TOKEN, CONTEXT))
      const elsewhere = 'https://elsewhere.example/.well-known/mercure'
      await assertInvalid(
        shared.verify(CONFORMANCE_TOKEN, { audience: elsewhere, hubUrl: HUB }),
        /"aud" claim does not contain "https:\/\/elsewhere/,
      )
    })
  })

  describe('malformed tokens', () => {
    for (const [label, token] of [
      ['an empty string', ''],
      ['two parts', 'a.b'],
      ['a header that is not JSON', 'bm90IGpzb24.e30.sig'],
      ['a payload that is not JSON', `${base64url({ alg: 'HS256', typ: 'at+jwt' })}.bm90.sig`],
    ] as const) {
      it(`refuses ${label}`, async () => {
        await assertInvalid(verifier().verify(token, CONTEXT), /./)
      })
    }
  })

  describe('configuration', () => {
    it('refuses an issuer listed twice, an empty issuer, or one without a key', () => {
      assert.throws(() => verifier([{ issuer: ISSUER }, { issuer: ISSUER }]), /listed twice/)
      assert.throws(() => verifier([{ issuer: '' }]), /empty "issuer"/)
      assert.throws(
        () => createAccessTokenVerifier({ issuers: [{ issuer: ISSUER }], role: 'subscriber' }),
        /"https:\/\/localhost" has no key for subscribers: set its subscriberKey or key/,
      )
    })

    it('refuses none, and an HMAC algorithm for a public key, naming the setting', async () => {
      assert.throws(() => verifier(undefined, { defaultAlgorithms: ['none'] }), /"none" can never/)
      const { publicKey } = await generateKeyPair('ES256', { extractable: true })
      const pem = await exportSPKI(publicKey)
      assert.throws(
        () => verifier([{ issuer: ISSUER, key: pem, algorithms: ['HS256'] }]),
        /The key of the trusted issuer "https:\/\/localhost" is an EC P-256 key, but HS256/,
      )
      assert.throws(
        () => verifier(undefined, { defaultKey: 'short', keyName: 'SSEHUB_PUBLISHER_JWT_KEY' }),
        (error: Error) =>
          /^SSEHUB_PUBLISHER_JWT_KEY is a shared secret shorter/.test(error.message),
      )
    })
  })
})

import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { pathToFileURL } from 'node:url'
import { inspect } from 'node:util'
import {
  type CryptoKey,
  exportJWK,
  exportPKCS8,
  exportSPKI,
  generateKeyPair,
  importPKCS8,
  type JWTPayload,
  SignJWT,
} from 'jose'
import { AuthError } from './auth-error.ts'
import { canPublish } from './authorize.ts'
import { JwksUnavailableError } from './jwt-keys.ts'
import { createJwtVerifier, type MercureClaims } from './jwt-verifier.ts'

/** The secret of Mercure's docs: 34 bytes, enough for HS256. */
const SECRET = '!ChangeThisMercureHubJWTSecretKey!'
const OTHER_SECRET = 'another-secret-that-is-long-enough-for-hs256'
const GRANTS = { publish: ['https://example.com/books/{id}'], subscribe: ['*'] }
const matches = (selector: string, topic: string): boolean => selector === '*' || selector === topic
const nowSec = (): number => Math.floor(Date.now() / 1000)

/** Every string that must never appear in an error: filled as tokens and keys are made. */
const secrets: string[] = [SECRET, OTHER_SECRET]

type AsymmetricAlg = 'RS256' | 'ES256' | 'EdDSA'

interface KeyFixture {
  alg: AsymmetricAlg
  privateKey: CryptoKey
  otherPrivateKey: CryptoKey
  publicPem: string
  privatePem: string
  jwk: Record<string, unknown>
}

/** A key pair of `alg` in every form a key setting can take, plus a second, unrelated pair. */
async function generateKeyFixture(alg: AsymmetricAlg): Promise<KeyFixture> {
  const pair = await generateKeyPair(alg, { extractable: true })
  const other = await generateKeyPair(alg, { extractable: true })
  const privatePem = await exportPKCS8(pair.privateKey)
  secrets.push(privatePem.split('\n')[1] as string)
  return {
    alg,
    privateKey: pair.privateKey,
    otherPrivateKey: other.privateKey,
    publicPem: await exportSPKI(pair.publicKey),
    privatePem,
    jwk: { ...(await exportJWK(pair.publicKey)), kid: `${alg}-1`, use: 'sig' },
  }
}

/** Signs `claims` like any Mercure token issuer would, and remembers the token as a secret. */
async function signToken(
  claims: JWTPayload,
  key: CryptoKey | Uint8Array,
  header: { alg: string; kid?: string },
): Promise<string> {
  const token = await new SignJWT(claims).setProtectedHeader({ typ: 'JWT', ...header }).sign(key)
  secrets.push(token)
  return token
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)
const base64url = (json: unknown): string => Buffer.from(JSON.stringify(json)).toString('base64url')

/** Asserts the promise rejects with a 401 invalid_token `AuthError` that leaks no secret. */
async function assertInvalidToken(promise: Promise<unknown>, message: RegExp): Promise<AuthError> {
  let caught: unknown
  await promise.then(
    () => assert.fail('expected the token to be refused'),
    (error: unknown) => {
      caught = error
    },
  )
  assert.ok(caught instanceof AuthError, `expected an AuthError, got ${inspect(caught)}`)
  assert.equal(caught.status, 401)
  assert.equal(caught.code, 'invalid-token')
  assert.match(
    caught.wwwAuthenticate,
    /^Bearer realm="ssehub", error="invalid_token", error_description="/,
  )
  assert.match(caught.message, message)
  assertNoSecrets(caught)
  return caught
}

function assertNoSecrets(error: unknown): void {
  const texts = [inspect(error, { depth: 10 })]
  if (error instanceof AuthError) texts.push(error.message, error.wwwAuthenticate)
  for (const text of texts) {
    for (const secret of secrets) {
      assert.ok(!text.includes(secret), `an error leaked a token or key: ${text.slice(0, 200)}`)
    }
  }
}

const fixtures = {
  RS256: await generateKeyFixture('RS256'),
  ES256: await generateKeyFixture('ES256'),
  EdDSA: await generateKeyFixture('EdDSA'),
}

let tmp: string
let jwksServer: Server
let jwksBase: string

before(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'ssehub-jwt-'))
  jwksServer = createServer((req, res) => {
    const alg = req.url?.slice(1).replace(/\.json$/, '')
    const fixture = fixtures[alg as AsymmetricAlg] as KeyFixture | undefined
    if (fixture === undefined) {
      res.writeHead(500).end('boom')
      return
    }
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' })
    res.end(JSON.stringify({ keys: [fixture.jwk] }))
  })
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve))
  jwksBase = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}`
})

after(async () => {
  rmSync(tmp, { recursive: true, force: true })
  await new Promise((resolve) => jwksServer.close(resolve))
})

function writeJwks(name: string, jwks: unknown): string {
  const path = join(tmp, name)
  writeFileSync(path, JSON.stringify(jwks))
  return path
}

describe('createJwtVerifier with an HS256 secret', () => {
  const verifier = createJwtVerifier({ key: SECRET })

  it('defaults the allow-list to HS256', () => {
    assert.deepEqual(verifier.algorithms, ['HS256'])
  })

  it('accepts a valid token and reads its mercure claim', async () => {
    const exp = nowSec() + 60
    const token = await signToken(
      { mercure: { ...GRANTS, payload: { user: 7 } }, exp },
      bytes(SECRET),
      {
        alg: 'HS256',
      },
    )
    const claims = await verifier.verify(token)
    assert.deepEqual(claims, { ...GRANTS, payload: { user: 7 }, exp })
  })

  it('refuses a token signed with another secret with 401 invalid_token', async () => {
    const token = await signToken({ mercure: GRANTS }, bytes(OTHER_SECRET), { alg: 'HS256' })
    await assertInvalidToken(verifier.verify(token), /signature does not match/)
  })

  it('refuses an HS512 token because HS512 is not in the allow-list', async () => {
    const token = await signToken({ mercure: GRANTS }, bytes(SECRET), { alg: 'HS512' })
    await assertInvalidToken(
      verifier.verify(token),
      /^The token is signed with HS512, which is not allowed \(allowed: HS256\)\.$/,
    )
  })
})

for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
  describe(`createJwtVerifier with ${alg} keys`, () => {
    const fixture = fixtures[alg]
    const kid = `${alg}-1`
    const sources: Array<[string, () => string]> = [
      ['a PEM public key', () => fixture.publicPem],
      ['a PEM private key (its public half)', () => fixture.privatePem],
      ['a PEM key with literal \\n line breaks', () => fixture.publicPem.replaceAll('\n', '\\n')],
      ['a JWKS file', () => writeJwks(`${alg}.json`, { keys: [fixture.jwk] })],
      [
        'a JWKS file given as a file: URL',
        () => pathToFileURL(writeJwks(`${alg}-url.json`, { keys: [fixture.jwk] })).href,
      ],
      ['a JWKS URL', () => `${jwksBase}/${alg}.json`],
    ]
    for (const [label, source] of sources) {
      it(`accepts a valid token when the key is ${label}`, async () => {
        const verifier = createJwtVerifier({ key: source() })
        assert.ok(verifier.algorithms.includes(alg))
        const token = await signToken({ mercure: GRANTS }, fixture.privateKey, { alg, kid })
        const claims = await verifier.verify(token)
        assert.deepEqual(claims.publish, GRANTS.publish)
        assert.deepEqual(claims.subscribe, GRANTS.subscribe)
      })

      it(`refuses a token signed with another key when the key is ${label}`, async () => {
        const verifier = createJwtVerifier({ key: source() })
        const token = await signToken({ mercure: GRANTS }, fixture.otherPrivateKey, { alg, kid })
        await assertInvalidToken(verifier.verify(token), /signature does not match/)
      })
    }

    it('refuses an HS256 token signed with the public key text (algorithm confusion)', async () => {
      const verifier = createJwtVerifier({ key: fixture.publicPem })
      const token = await signToken({ mercure: GRANTS }, bytes(fixture.publicPem), { alg: 'HS256' })
      await assertInvalidToken(verifier.verify(token), /signed with HS256, which is not allowed/)
    })

    it('refuses an unsigned token (alg none)', async () => {
      const verifier = createJwtVerifier({ key: fixture.publicPem })
      const token = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url({ mercure: GRANTS })}.`
      secrets.push(token)
      await assertInvalidToken(verifier.verify(token), /unsigned \(alg "none"\)/)
    })
  })
}

describe('createJwtVerifier algorithm allow-list', () => {
  it('refuses a PS256 token when only RS256 is allowed for an RSA key', async () => {
    const verifier = createJwtVerifier({ key: fixtures.RS256.publicPem, algorithms: ['RS256'] })
    const pssKey = await importPKCS8(fixtures.RS256.privatePem, 'PS256')
    const token = await signToken({ mercure: GRANTS }, pssKey, { alg: 'PS256' })
    await assertInvalidToken(
      verifier.verify(token),
      /^The token is signed with PS256, which is not allowed \(allowed: RS256\)\.$/,
    )
  })

  it('accepts PS256 with an RSA key by default', async () => {
    const verifier = createJwtVerifier({ key: fixtures.RS256.publicPem })
    const pssKey = await importPKCS8(fixtures.RS256.privatePem, 'PS256')
    const token = await signToken({ mercure: GRANTS }, pssKey, { alg: 'PS256' })
    assert.deepEqual((await verifier.verify(token)).publish, GRANTS.publish)
  })

  it('refuses an unsigned token against a secret, whatever its case (alg NoNe)', async () => {
    const verifier = createJwtVerifier({ key: SECRET })
    for (const alg of ['none', 'NoNe']) {
      const token = `${base64url({ alg })}.${base64url({ mercure: GRANTS })}.`
      await assertInvalidToken(verifier.verify(token), /unsigned/)
    }
  })

  it('refuses to be created when "none" is allowed', () => {
    assert.throws(
      () => createJwtVerifier({ key: SECRET, algorithms: ['HS256', 'none'] }),
      /"none" can never be allowed/,
    )
  })

  it('refuses to be created with HS256 for a PEM key (algorithm confusion)', () => {
    assert.throws(
      () => createJwtVerifier({ key: fixtures.RS256.publicPem, algorithms: ['HS256'] }),
      /algorithm-confusion/,
    )
  })

  it('refuses to be created with RS256 for a shared secret', () => {
    assert.throws(
      () => createJwtVerifier({ key: SECRET, algorithms: ['RS256'] }),
      /shared secret .* cannot verify RS256/,
    )
  })
})

describe('createJwtVerifier time claims', () => {
  const verifier = createJwtVerifier({ key: SECRET })

  it('refuses an expired token and says when it expired', async () => {
    const exp = nowSec() - 120
    const token = await signToken({ mercure: GRANTS, exp }, bytes(SECRET), { alg: 'HS256' })
    const iso = new Date(exp * 1000).toISOString()
    const error = await assertInvalidToken(verifier.verify(token), /^The token expired at /)
    assert.ok(error.message.includes(iso), error.message)
    assert.ok(error.wwwAuthenticate.includes(iso))
  })

  it('accepts a recently expired token within the clock tolerance', async () => {
    const tolerant = createJwtVerifier({ key: SECRET, clockToleranceSec: 300 })
    const token = await signToken({ mercure: GRANTS, exp: nowSec() - 120 }, bytes(SECRET), {
      alg: 'HS256',
    })
    assert.deepEqual((await tolerant.verify(token)).publish, GRANTS.publish)
  })

  it('refuses a token whose nbf is in the future and says from when it is valid', async () => {
    const nbf = nowSec() + 3600
    const token = await signToken({ mercure: GRANTS, nbf }, bytes(SECRET), { alg: 'HS256' })
    const error = await assertInvalidToken(verifier.verify(token), /not valid before/)
    assert.ok(error.message.includes(new Date(nbf * 1000).toISOString()))
  })

  it('refuses a token it verified before once it has expired', async () => {
    const exp = nowSec() + 1
    const token = await signToken({ mercure: GRANTS, exp }, bytes(SECRET), { alg: 'HS256' })
    assert.deepEqual((await verifier.verify(token)).publish, GRANTS.publish)
    assert.deepEqual((await verifier.verify(token)).publish, GRANTS.publish)
    await new Promise((resolve) => setTimeout(resolve, (exp - Date.now() / 1000) * 1000 + 50))
    await assertInvalidToken(verifier.verify(token), /^The token expired at /)
  })

  it('refuses a token whose exp is not a number', async () => {
    const token = await signToken(
      { mercure: GRANTS, exp: 'tomorrow' as unknown as number },
      bytes(SECRET),
      {
        alg: 'HS256',
      },
    )
    await assertInvalidToken(verifier.verify(token), /"exp" claim is invalid/)
  })
})

describe('createJwtVerifier mercure claim', () => {
  const verifier = createJwtVerifier({ key: SECRET })
  const verifyClaims = async (claims: JWTPayload): Promise<MercureClaims> =>
    verifier.verify(await signToken(claims, bytes(SECRET), { alg: 'HS256' }))

  it('verifies a token without a mercure claim, which then may not publish (403)', async () => {
    const claims = await verifyClaims({ sub: 'alice' })
    assert.deepEqual(claims, {
      publish: undefined,
      subscribe: undefined,
      payload: undefined,
      exp: undefined,
    })
    const refusal = canPublish(claims, ['https://example.com/books/1'], matches)
    assert.ok(refusal instanceof AuthError)
    assert.equal(refusal.status, 403)
    assert.match(refusal.wwwAuthenticate, /error="insufficient_scope"/)
  })

  it('names the topic a valid token may not publish to (403)', async () => {
    const claims = await verifyClaims({ mercure: { publish: ['https://example.com/books/1'] } })
    const refusal = canPublish(
      claims,
      ['https://example.com/books/1', 'https://example.com/books/2'],
      matches,
    )
    assert.equal(refusal?.status, 403)
    assert.equal(
      refusal?.message,
      'The token\'s mercure.publish claim does not allow the topic "https://example.com/books/2".',
    )
  })

  it('falls back to the https://mercure.rocks/ claim when mercure is absent', async () => {
    const claims = await verifyClaims({
      'https://mercure.rocks/': {
        publish: ['*'],
        subscribe: ['https://example.com/{id}'],
        payload: 'p',
      },
    })
    assert.deepEqual(claims.publish, ['*'])
    assert.deepEqual(claims.subscribe, ['https://example.com/{id}'])
    assert.equal(claims.payload, 'p')
  })

  it('prefers the mercure claim over the namespaced fallback', async () => {
    const claims = await verifyClaims({
      mercure: { publish: ['a'] },
      'https://mercure.rocks/': { publish: ['*'] },
    })
    assert.deepEqual(claims.publish, ['a'])
  })

  it('treats null selectors as absent (grants nothing)', async () => {
    const claims = await verifyClaims({ mercure: { publish: null, subscribe: null } })
    assert.equal(claims.publish, undefined)
    assert.equal(claims.subscribe, undefined)
  })

  const malformed: Array<[string, unknown, RegExp]> = [
    ['a mercure claim that is not an object', ['*'], /"mercure" claim must be a JSON object/],
    [
      'a publish claim that is a string',
      { publish: '*' },
      /mercure\.publish claim must be an array/,
    ],
    ['a subscribe entry that is not a string', { subscribe: ['a', 3] }, /entry 1 is not/],
    ['a URL pattern mark', { subscribe: ['*', '\u0002h\u0002/'] }, /character \(entry 1\)/],
    ['a 1.0 exact mark', { publish: ['\u0001a{b}'] }, /mercure\.publish claim holds a control/],
    ['a C1 control or DEL', { publish: ['a\u0085', 'b\u007f'] }, /a control character \(entry 0\)/],
    [
      'more than 1000 selectors',
      { subscribe: Array.from({ length: 1001 }, (_, i) => `https://example.com/${i}`) },
      /more than 1000 selectors/,
    ],
  ]
  for (const [label, mercure, message] of malformed) {
    it(`refuses ${label} with 401 invalid_token`, async () => {
      const token = await signToken({ mercure }, bytes(SECRET), { alg: 'HS256' })
      await assertInvalidToken(verifier.verify(token), message)
    })
  }
})

describe('createJwtVerifier malformed tokens', () => {
  const verifier = createJwtVerifier({ key: SECRET })
  const cases: Array<[string, string, RegExp]> = [
    ['an empty string', '', /empty/],
    ['a string without dots', 'not-a-jwt', /not a compact JWS/],
    ['a JWE (five parts)', 'a.b.c.d.e', /not a compact JWS/],
    ['a header that is not JSON', 'bm90IGpzb24.e30.sig', /header is not base64url-encoded JSON/],
    ['a header without alg', `${base64url({ typ: 'JWT' })}.e30.sig`, /has no "alg"/],
    ['an oversized token', `${'a'.repeat(70_000)}.e30.sig`, /longer than/],
  ]
  for (const [label, token, message] of cases) {
    it(`refuses ${label} with 401 invalid_token`, async () => {
      await assertInvalidToken(verifier.verify(token), message)
    })
  }

  it('refuses a correctly signed token whose payload is not a JSON object', async () => {
    const signingInput = `${base64url({ alg: 'HS256' })}.${Buffer.from('[1,2]').toString('base64url')}`
    const signature = createHmac('sha256', SECRET).update(signingInput).digest('base64url')
    const token = `${signingInput}.${signature}`
    secrets.push(token)
    await assertInvalidToken(verifier.verify(token), /not a valid JWT/)
  })
})

describe('createJwtVerifier with a JWKS', () => {
  it('tries every key when several match the header (rotation without kid)', async () => {
    const { RS256 } = fixtures
    const { kid: _kid, ...first } = RS256.jwk
    const second = { ...(await exportJWK((await generateKeyPair('RS256')).publicKey)) }
    const path = writeJwks('rotation.json', { keys: [second, first] })
    const verifier = createJwtVerifier({ key: path })
    const token = await signToken({ mercure: GRANTS }, RS256.privateKey, { alg: 'RS256' })
    assert.deepEqual((await verifier.verify(token)).publish, GRANTS.publish)
  })

  it('refuses a token whose kid is not in the key set', async () => {
    const verifier = createJwtVerifier({
      key: writeJwks('es.json', { keys: [fixtures.ES256.jwk] }),
    })
    const token = await signToken({ mercure: GRANTS }, fixtures.ES256.privateKey, {
      alg: 'ES256',
      kid: 'unknown',
    })
    await assertInvalidToken(verifier.verify(token), /No key of the key set matches/)
  })

  it('drops private members of a JWKS file and still verifies', async () => {
    const jwk = { ...(await exportJWK(fixtures.ES256.privateKey)), kid: 'ES256-1' }
    secrets.push(jwk.d as string)
    const verifier = createJwtVerifier({ key: writeJwks('private.json', { keys: [jwk] }) })
    const token = await signToken({ mercure: GRANTS }, fixtures.ES256.privateKey, {
      alg: 'ES256',
      kid: 'ES256-1',
    })
    assert.deepEqual((await verifier.verify(token)).publish, GRANTS.publish)
  })

  it('reports an unreachable JWKS URL as JwksUnavailableError, not as a bad token', async () => {
    const verifier = createJwtVerifier({ key: `${jwksBase}/broken.json?api_key=hunter2` })
    const token = await signToken({ mercure: GRANTS }, fixtures.RS256.privateKey, { alg: 'RS256' })
    await assert.rejects(verifier.verify(token), (error: unknown) => {
      assert.ok(error instanceof JwksUnavailableError)
      assert.ok(!AuthError.is(error))
      assert.match(error.message, /\/broken\.json could not be fetched/)
      assert.ok(!error.message.includes('hunter2'), 'the query string stays out of messages')
      assertNoSecrets(error)
      return true
    })
  })
})

describe('createJwtVerifier errors', () => {
  it('never put a token or key in a message (checked after every test above)', () => {
    // assertInvalidToken checks each error against every token and key made so far; this test
    // only documents that the list is not empty, so the check cannot pass vacuously.
    assert.ok(secrets.length > 20)
  })

  it('are refused early for a short secret, without echoing it', () => {
    assert.throws(
      () => createJwtVerifier({ key: 'short-secret', keyName: 'SSEHUB_PUBLISHER_JWT_KEY' }),
      (error: unknown) => {
        assert.ok(error instanceof Error)
        assert.match(
          error.message,
          /^SSEHUB_PUBLISHER_JWT_KEY is a shared secret shorter than 32 bytes/,
        )
        assert.ok(!error.message.includes('short-secret'))
        return true
      },
    )
  })
})

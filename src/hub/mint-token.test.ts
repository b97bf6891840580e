import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { createJwtVerifier } from './jwt-verifier.ts'
import { mintToken } from './mint-token.ts'

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

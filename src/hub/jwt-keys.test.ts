import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadKey, loadSigningKey } from './jwt-keys.ts'

const SECRET = '!ChangeThisMercureHubJWTSecretKey!'
const NAME = 'SSEHUB_PUBLISHER_JWT_KEY'
const tmp = mkdtempSync(join(tmpdir(), 'ssehub-keys-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

/** PEM texts of freshly generated key pairs, by key type. */
function generatePems(
  type: 'rsa' | 'ec' | 'ed25519' | 'ed448',
  options: Record<string, unknown> = {},
): { publicPem: string; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync(type as 'rsa', {
    modulusLength: 2048,
    ...options,
  })
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  }
}

const rsa = generatePems('rsa')
const p256 = generatePems('ec', { namedCurve: 'P-256' })
const p384 = generatePems('ec', { namedCurve: 'P-384' })
const ed25519 = generatePems('ed25519')

/** The base64 body of a PEM: the part that must never show up in a message. */
const pemBody = (pem: string): string => pem.split('\n')[1] as string

/** Asserts `fn` throws an Error whose message matches and contains none of `secrets`. */
function assertThrowsSafely(fn: () => unknown, message: RegExp, secrets: string[] = []): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof Error)
    assert.match(error.message, message)
    for (const secret of secrets) assert.ok(!error.message.includes(secret), error.message)
    return true
  })
}

describe('loadKey with a shared secret', () => {
  it('defaults to HS256 and describes the key without its value', () => {
    const key = loadKey(SECRET)
    assert.equal(key.type, 'secret')
    assert.deepEqual(key.algorithms, ['HS256'])
    assert.equal(key.description, 'a shared secret')
  })

  it('refuses a secret shorter than 32 bytes, naming the setting but not the secret', () => {
    assertThrowsSafely(
      () => loadKey('too-short-a-secret', { name: NAME }),
      /^SSEHUB_PUBLISHER_JWT_KEY is a shared secret shorter than 32 bytes, too short for HS256.*openssl rand/,
      ['too-short-a-secret'],
    )
  })

  it('refuses HS512 with a 34-byte secret, which needs 64 bytes', () => {
    assertThrowsSafely(
      () => loadKey(SECRET, { algorithms: ['HS512'] }),
      /shorter than 64 bytes, too short for HS512/,
      [SECRET],
    )
  })

  it('accepts HS384 and HS512 with a long enough secret', () => {
    const key = loadKey('x'.repeat(64), { algorithms: ['HS384', 'HS512'] })
    assert.deepEqual(key.algorithms, ['HS384', 'HS512'])
  })

  it('refuses an asymmetric algorithm for a secret', () => {
    assertThrowsSafely(() => loadKey(SECRET, { algorithms: ['ES256'] }), /cannot verify ES256/, [
      SECRET,
    ])
  })

  it('refuses an empty setting', () => {
    assertThrowsSafely(() => loadKey('  ', { name: NAME }), /^SSEHUB_PUBLISHER_JWT_KEY is empty/)
  })

  it('refuses inline JSON instead of treating it as a secret', () => {
    assertThrowsSafely(() => loadKey('{"keys":[]}', { name: NAME }), /looks like JSON/)
  })
})

describe('loadKey with a PEM key', () => {
  const cases: Array<[string, string, string[], RegExp]> = [
    [
      'an RSA public key',
      rsa.publicPem,
      ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
      /RSA key \(2048 bits\)/,
    ],
    [
      'an RSA private key',
      rsa.privatePem,
      ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'],
      /RSA/,
    ],
    ['an EC P-256 public key', p256.publicPem, ['ES256'], /EC P-256/],
    ['an EC P-384 private key', p384.privatePem, ['ES384'], /EC P-384/],
    ['an Ed25519 public key', ed25519.publicPem, ['EdDSA', 'Ed25519'], /Ed25519/],
  ]
  for (const [label, pem, algorithms, description] of cases) {
    it(`defaults to the algorithms of ${label}`, () => {
      const key = loadKey(pem)
      assert.equal(key.type, 'pem')
      assert.deepEqual(key.algorithms, algorithms)
      assert.match(key.description, description)
    })
  }

  it('reads a PEM whose line breaks are written as \\n (environment variables)', () => {
    assert.deepEqual(loadKey(p256.publicPem.replaceAll('\n', '\\n')).algorithms, ['ES256'])
  })

  it('reads the public key of an X.509 certificate', (t) => {
    const keyPath = join(tmp, 'cert.key')
    const certPath = join(tmp, 'cert.pem')
    try {
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
          '-keyout',
          keyPath,
          '-out',
          certPath,
          '-days',
          '1',
          '-subj',
          '/CN=ssehub',
        ]),
        { stdio: 'ignore' },
      )
    } catch {
      t.skip('openssl is not available')
      return
    }
    const key = loadKey(readFileSync(certPath, 'utf8'))
    assert.deepEqual(key.algorithms, ['ES256'])
  })

  it('refuses a PEM that does not parse, naming the setting but not the key', () => {
    const broken = rsa.publicPem.replace(/\n[A-Za-z0-9+/]{10}/, '\n')
    assertThrowsSafely(
      () => loadKey(broken, { name: NAME }),
      /^SSEHUB_PUBLISHER_JWT_KEY looks like a PEM but could not be parsed: /,
      [pemBody(broken)],
    )
  })

  it('refuses an encrypted private key with a fix', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const encrypted = privateKey
      .export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' })
      .toString()
    assertThrowsSafely(() => loadKey(encrypted), /encrypted private key.*-pubout/, [
      pemBody(encrypted),
    ])
  })

  it('refuses an HMAC algorithm for a PEM key (algorithm confusion)', () => {
    assertThrowsSafely(
      () => loadKey(rsa.publicPem, { name: NAME, algorithms: ['RS256', 'HS256'] }),
      /HS256 is an HMAC algorithm: .*algorithm-confusion attack/,
      [pemBody(rsa.publicPem)],
    )
  })

  it('refuses an algorithm of another key type', () => {
    assertThrowsSafely(
      () => loadKey(rsa.publicPem, { algorithms: ['ES256'] }),
      /cannot verify ES256/,
    )
    assertThrowsSafely(
      () => loadKey(p256.publicPem, { algorithms: ['ES384'] }),
      /cannot verify ES384/,
    )
  })

  it('refuses "none" and unknown algorithms', () => {
    assertThrowsSafely(() => loadKey(rsa.publicPem, { algorithms: ['none'] }), /"none" can never/)
    assertThrowsSafely(
      () => loadKey(rsa.publicPem, { algorithms: ['RS1'] }),
      /Unknown JWS algorithm "RS1"/,
    )
    assertThrowsSafely(() => loadKey(rsa.publicPem, { algorithms: [] }), /allow-list is empty/)
  })

  it('refuses an RSA key under 2048 bits', () => {
    const weak = generatePems('rsa', { modulusLength: 1024 })
    assertThrowsSafely(
      () => loadKey(weak.publicPem),
      /RSA key of 1024 bits; JWS requires at least 2048/,
    )
  })

  it('refuses a key type JWS cannot use', () => {
    assertThrowsSafely(
      () => loadKey(generatePems('ed448').publicPem),
      /ed448 key, which ssehub cannot use/,
    )
  })
})

describe('loadKey with a JWKS URL', () => {
  it('accepts https:// and every asymmetric algorithm by default, without fetching yet', () => {
    const key = loadKey('https://auth.example.com/.well-known/jwks.json?tenant=secret-tenant')
    assert.equal(key.type, 'jwks-url')
    assert.ok(key.algorithms.includes('RS256') && key.algorithms.includes('EdDSA'))
    assert.ok(!key.algorithms.some((alg) => alg.startsWith('HS')))
    assert.equal(key.description, 'the JWKS at https://auth.example.com/.well-known/jwks.json')
  })

  it('accepts plain http only to a loopback host', () => {
    assert.equal(loadKey('http://localhost:8080/jwks.json').type, 'jwks-url')
    assert.equal(loadKey('http://127.0.0.1:8080/jwks.json').type, 'jwks-url')
    assert.equal(loadKey('http://[::1]:8080/jwks.json').type, 'jwks-url')
    assertThrowsSafely(
      () => loadKey('http://auth.example.com/jwks.json', { name: NAME }),
      /plain http .*key substitution.*https/,
    )
  })

  it('refuses HMAC algorithms for a JWKS', () => {
    assertThrowsSafely(
      () => loadKey('https://auth.example.com/jwks.json', { algorithms: ['HS256'] }),
      /algorithm-confusion/,
    )
  })
})

describe('loadKey with a JWKS file', () => {
  const write = (name: string, text: string): string => {
    const path = join(tmp, name)
    writeFileSync(path, text)
    return path
  }
  const ecJwk = {
    kty: 'EC',
    crv: 'P-256',
    x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU',
    y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0',
  }

  it('derives the default algorithms from the keys it holds', () => {
    const key = loadKey(write('ec.json', JSON.stringify({ keys: [ecJwk] })))
    assert.equal(key.type, 'jwks-file')
    assert.deepEqual(key.algorithms, ['ES256'])
  })

  it('accepts a single JWK and a file: path', () => {
    const path = write('single.json', JSON.stringify(ecJwk))
    assert.deepEqual(loadKey(`file:${path}`).algorithms, ['ES256'])
  })

  it('refuses a missing file, naming it', () => {
    assertThrowsSafely(
      () => loadKey(join(tmp, 'missing.json'), { name: NAME }),
      /^SSEHUB_PUBLISHER_JWT_KEY names the JWKS file .*missing\.json, which could not be read: ENOENT/,
    )
  })

  it('refuses invalid JSON without quoting the file', () => {
    const content = '{"keys": [{"kty": "EC", "d": "PRIVATE-MATERIAL" x'
    assertThrowsSafely(() => loadKey(write('broken.json', content)), /is not valid JSON\.$/, [
      'PRIVATE-MATERIAL',
    ])
  })

  it('refuses a symmetric key in the set', () => {
    const path = write(
      'oct.json',
      JSON.stringify({ keys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldA' }] }),
    )
    assertThrowsSafely(() => loadKey(path), /symmetric \("oct"\) key/, ['c2VjcmV0LXNlY3JldA'])
  })

  it('refuses an empty set and entries that are not JWKs', () => {
    assertThrowsSafely(() => loadKey(write('empty.json', '{"keys":[]}')), /has no keys/)
    assertThrowsSafely(() => loadKey(write('junk.json', '{"keys":[42]}')), /key #0 .* is not a JWK/)
  })
})

describe('loadSigningKey', () => {
  it('signs with HS256 by default for a secret', async () => {
    const key = loadSigningKey(SECRET)
    assert.equal(key.alg, 'HS256')
    const token = await key.sign({ mercure: { publish: ['*'] } })
    assert.equal(
      JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString()).alg,
      'HS256',
    )
  })

  it('picks the algorithm of a PEM private key', () => {
    assert.equal(loadSigningKey(rsa.privatePem).alg, 'RS256')
    assert.equal(loadSigningKey(p384.privatePem).alg, 'ES384')
    assert.equal(loadSigningKey(ed25519.privatePem).alg, 'EdDSA')
    assert.equal(loadSigningKey(rsa.privatePem, 'PS512').alg, 'PS512')
  })

  it('refuses a public key, which cannot sign', () => {
    assertThrowsSafely(() => loadSigningKey(rsa.publicPem), /not an unencrypted PEM private key/)
  })

  it('refuses a JWKS, which cannot sign', () => {
    assertThrowsSafely(() => loadSigningKey('https://auth.example.com/jwks.json'), /cannot sign/)
  })

  it('refuses an HMAC algorithm with a private key (algorithm confusion)', () => {
    assertThrowsSafely(() => loadSigningKey(rsa.privatePem, 'HS256'), /algorithm-confusion/, [
      pemBody(rsa.privatePem),
    ])
  })

  it('refuses a short secret without echoing it', () => {
    assertThrowsSafely(() => loadSigningKey('tiny-s3cr3t'), /shorter than 32 bytes/, [
      'tiny-s3cr3t',
    ])
  })
})

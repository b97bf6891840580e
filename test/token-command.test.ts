import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, it } from 'node:test'
import { createAccessTokenVerifier } from '../src/hub/access-token-verifier.ts'
import { createJwtVerifier } from '../src/hub/jwt-verifier.ts'

const CLI = new URL('../src/server/cli.ts', import.meta.url).pathname
const SECRET = 'token-command-test-secret-0123456789-abcdef'

/** Runs `ssehub token …` with no ssehub or Mercure variable set (unless `env` gives one). */
async function token(args: readonly string[], env: Record<string, string> = {}) {
  const clean: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(SSEHUB|MERCURE)_/.test(name)) clean[name] = value
  }
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'token', ...args], {
    env: { ...clean, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const [code] = await once(child, 'exit')
  return { code: code as number | null, stdout, stderr }
}

const FULL = [
  '--key',
  SECRET,
  '--publish',
  'https://example.com/{x}',
  '--subscribe',
  '*',
  '--payload',
  '{"a":1}',
  '--ttl',
  '15m',
]

describe('ssehub token', () => {
  it('prints a JWT with the mercure claim asked for, valid for the --ttl given', async () => {
    const { code, stdout, stderr } = await token(FULL)
    assert.equal(code, 0, stderr)
    assert.match(stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/)
    const claims = JSON.parse(
      Buffer.from(stdout.trim().split('.')[1] as string, 'base64url').toString('utf8'),
    )
    assert.deepEqual(claims.mercure, {
      publish: ['https://example.com/{x}'],
      subscribe: ['*'],
      payload: { a: 1 },
    })
    assert.equal(claims.exp - claims.iat, 900)
    const now = Math.floor(Date.now() / 1000)
    assert.ok(Math.abs(claims.iat - now) <= 30, `iat is now: ${claims.iat}`)
  })

  it('prints a token the hub verifier accepts with the same key', async () => {
    const { code, stdout, stderr } = await token(FULL)
    assert.equal(code, 0, stderr)
    const claims = await createJwtVerifier({ key: SECRET }).verify(stdout.trim())
    assert.deepEqual(claims.publish, ['https://example.com/{x}'])
    assert.deepEqual(claims.subscribe, ['*'])
    assert.deepEqual(claims.payload, { a: 1 })
    await assert.rejects(
      createJwtVerifier({ key: `${SECRET}-another` }).verify(stdout.trim()),
      'another key refuses it',
    )
  })

  it('signs with SSEHUB_PUBLISHER_JWT_KEY when no --key is given', async () => {
    const { code, stdout, stderr } = await token(['--publish', '*'], {
      SSEHUB_PUBLISHER_JWT_KEY: SECRET,
    })
    assert.equal(code, 0, stderr)
    const claims = await createJwtVerifier({ key: SECRET }).verify(stdout.trim())
    assert.deepEqual(claims.publish, ['*'])
  })

  it('exits 2 naming SSEHUB_PUBLISHER_JWT_KEY when there is no key', async () => {
    const { code, stdout, stderr } = await token(['--publish', '*'])
    assert.equal(code, 2)
    assert.equal(stdout, '')
    assert.match(stderr, /SSEHUB_PUBLISHER_JWT_KEY/)
    assert.match(stderr, /--key/)
  })

  it('exits 2 when --payload is not JSON', async () => {
    const { code, stdout, stderr } = await token(['--key', SECRET, '--payload', '{a:1}'])
    assert.equal(code, 2)
    assert.equal(stdout, '')
    assert.match(stderr, /--payload must be JSON/)
  })
})

describe('ssehub token for Mercure 1.0', () => {
  const ISSUER = 'https://example.com'
  const HUB = 'https://example.com/.well-known/mercure'
  const part = (token: string, index: number) =>
    JSON.parse(Buffer.from(token.split('.')[index] as string, 'base64url').toString('utf8'))

  it('mints an at+jwt access token with --issuer and --audience, which the 1.0 verifier accepts', async () => {
    const { code, stdout, stderr } = await token([
      '--key',
      SECRET,
      '--issuer',
      ISSUER,
      '--audience',
      HUB,
      '--publish',
      'https://example.com/a,https://example.com/{x}',
      '--publish-urlpattern',
      '/books/:id',
      '--subscribe-urlpattern',
      'https://example.com/users/:id',
      '--payload',
      '{"a":1}',
      '--ttl',
      '15m',
      '--subject',
      'ada',
      '--client-id',
      'cli',
    ])
    assert.equal(code, 0, stderr)
    const jwt = stdout.trim()
    assert.equal(part(jwt, 0).typ, 'at+jwt')
    const claims = part(jwt, 1)
    assert.equal(claims.iss, ISSUER)
    assert.equal(claims.aud, HUB)
    assert.equal(claims.sub, 'ada')
    assert.equal(claims.client_id, 'cli')
    assert.equal(claims.exp - claims.iat, 900)
    assert.equal(claims.mercure, undefined)
    assert.deepEqual(claims.authorization_details[0].topics, [
      { match: 'https://example.com/a' },
      { match: 'https://example.com/{x}' },
      { match: '/books/:id', match_type: 'urlpattern' },
    ])
    const verifier = createAccessTokenVerifier({
      issuers: [{ issuer: ISSUER }],
      role: 'subscriber',
      defaultKey: SECRET,
    })
    const verified = await verifier.verify(jwt, { audience: HUB, hubUrl: HUB })
    assert.equal(verified.publish?.length, 3)
    assert.deepEqual(verified.subscribePayloads?.[0]?.payload, { a: 1 })
  })

  it('still mints a 0.x JWT when no 1.0 option is given', async () => {
    const { code, stdout, stderr } = await token(['--key', SECRET, '--publish', '*'])
    assert.equal(code, 0, stderr)
    assert.equal(part(stdout.trim(), 0).typ, 'JWT')
    assert.deepEqual(part(stdout.trim(), 1).mercure, { publish: ['*'] })
  })

  it('defaults --issuer to ssehub and --audience to SSEHUB_RESOURCE_IDENTIFIER', async () => {
    const { code, stdout, stderr } = await token(['--key', SECRET, '--protocol', '1.0'], {
      SSEHUB_RESOURCE_IDENTIFIER: HUB,
    })
    assert.equal(code, 0, stderr)
    const claims = part(stdout.trim(), 1)
    assert.equal(claims.iss, 'ssehub')
    assert.equal(claims.aud, HUB)
    assert.deepEqual(claims.authorization_details, [])
  })

  const refusals: Array<[string, string[], RegExp]> = [
    ['without --audience', ['--issuer', ISSUER], /needs --audience: the hub's resource identifier/],
    ['with only a URL pattern', ['--publish-urlpattern', '/a'], /needs --audience/],
    [
      'with --protocol 0.x and a 1.0 option',
      ['--protocol', '0.x', '--issuer', ISSUER],
      /--issuer is a Mercure 1\.0 option/,
    ],
    ['with an unknown --protocol', ['--protocol', '2'], /--protocol must be 1\.0 or 0\.x/],
    ['with --ttl never', ['--issuer', ISSUER, '--audience', HUB, '--ttl', 'never'], /must expire/],
    [
      'with a --payload that is not an object',
      ['--issuer', ISSUER, '--audience', HUB, '--subscribe', '*', '--payload', '[1]'],
      /--payload must be a JSON object/,
    ],
  ]
  for (const [label, args, message] of refusals) {
    it(`exits 2 ${label}`, async () => {
      const { code, stdout, stderr } = await token(['--key', SECRET, ...args])
      assert.equal(code, 2)
      assert.equal(stdout, '')
      assert.match(stderr, message)
    })
  }

  it('documents the 1.0 options in --help', async () => {
    const { code, stdout } = await token(['--help'])
    assert.equal(code, 0)
    for (const option of [
      '--protocol',
      '--issuer',
      '--audience',
      '--publish-urlpattern',
      '--client-id',
    ]) {
      assert.ok(stdout.includes(option), option)
    }
  })
})

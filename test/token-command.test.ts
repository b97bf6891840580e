import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { describe, it } from 'node:test'
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

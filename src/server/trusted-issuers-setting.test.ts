import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig, type ServerConfig } from './config.ts'

const SECRET = 'never-print-me-'.repeat(3)

function config(argv: string[], env: Record<string, string> = {}): ServerConfig {
  const loaded = loadConfig(argv, { SSEHUB_JWT_KEY: 'k'.repeat(40), ...env })
  assert.equal(loaded.help, false)
  return (loaded as { config: ServerConfig }).config
}

/** The issuers read from SSEHUB_TRUSTED_ISSUERS. */
function issuers(value: string): ServerConfig['trustedIssuers'] {
  return config([], { SSEHUB_TRUSTED_ISSUERS: value }).trustedIssuers
}

/** Asserts that SSEHUB_TRUSTED_ISSUERS=`value` is refused with `message`, never quoting the key. */
function refuses(value: string, message: RegExp): void {
  assert.throws(
    () => issuers(value),
    (error: unknown) =>
      error instanceof ConfigError &&
      message.test(error.message) &&
      !error.message.includes(SECRET),
  )
}

describe('--trusted-issuers', () => {
  it('trusts ssehub, bound to the hub keys, by default', () => {
    assert.deepEqual(config([]).trustedIssuers, [{ issuer: 'ssehub' }])
  })

  it('reads a list of issuers, separated by commas or spaces, each bound to the hub keys', () => {
    assert.deepEqual(issuers('https://localhost, my-app urn:example:issuer'), [
      { issuer: 'https://localhost' },
      { issuer: 'my-app' },
      { issuer: 'urn:example:issuer' },
    ])
  })

  it('takes MERCURE_TRUSTED_ISSUERS too, SSEHUB_TRUSTED_ISSUERS over it, and the flag over both', () => {
    const env = { MERCURE_TRUSTED_ISSUERS: 'https://localhost' }
    assert.deepEqual(config([], env).trustedIssuers, [{ issuer: 'https://localhost' }])
    const both = { ...env, SSEHUB_TRUSTED_ISSUERS: 'from-ssehub' }
    assert.deepEqual(config([], both).trustedIssuers, [{ issuer: 'from-ssehub' }])
    assert.deepEqual(config(['--trusted-issuers', 'from-flag'], both).trustedIssuers, [
      { issuer: 'from-flag' },
    ])
  })

  it('reads a JSON array of issuers with keys of their own', () => {
    const value = JSON.stringify([
      {
        issuer: 'https://auth.example.com',
        key: 'https://auth.example.com/jwks.json',
        algorithms: ['ES256', 'RS256'],
        authorizationServer: true,
      },
      { issuer: 'my-app', publisherKey: SECRET, subscriberKey: `${SECRET}2` },
      { issuer: 'ssehub' },
    ])
    assert.deepEqual(issuers(` ${value}`), [
      {
        issuer: 'https://auth.example.com',
        key: 'https://auth.example.com/jwks.json',
        algorithms: ['ES256', 'RS256'],
        authorizationServer: true,
      },
      { issuer: 'my-app', publisherKey: SECRET, subscriberKey: `${SECRET}2` },
      { issuer: 'ssehub' },
    ])
  })

  it('refuses JSON it cannot parse without quoting it (it holds keys)', () => {
    refuses(
      `[{"issuer":"my-app","key":"${SECRET}"`,
      /^SSEHUB_TRUSTED_ISSUERS starts with "\[" but is not valid JSON( \(at character \d+\))?\. Example: \[\{"issuer":/,
    )
  })

  it('refuses JSON that is not a non-empty array of objects', () => {
    refuses(
      '[]',
      /^SSEHUB_TRUSTED_ISSUERS must be a non-empty JSON array of issuers, e\.g\. .* To turn Mercure 1\.0 off, set SSEHUB_PROTOCOLS=0\.x\./,
    )
    refuses(
      '["my-app"]',
      /^SSEHUB_TRUSTED_ISSUERS, issuer 1 must be an object such as \{"issuer":"https:\/\/auth\.example\.com"\}\./,
    )
    refuses('[{"issuer":"a"}, null]', /^SSEHUB_TRUSTED_ISSUERS, issuer 2 must be an object/)
  })

  it('refuses an unknown member, and suggests the one meant', () => {
    refuses(
      `[{"issuer":"my-app","publisher_key":"${SECRET}"}]`,
      /^SSEHUB_TRUSTED_ISSUERS, issuer 1 has an unknown member "publisher_key": did you mean "publisherKey"\?\. Members: issuer, key, publisherKey, subscriberKey, algorithms, authorizationServer\./,
    )
    refuses('[{"issuer":"my-app","jwks":"x"}]', /has an unknown member "jwks"\. Members:/)
  })

  it('refuses an entry without an issuer', () => {
    refuses(
      `[{"key":"${SECRET}"}]`,
      /^SSEHUB_TRUSTED_ISSUERS, issuer 1 needs "issuer": the exact "iss" of its tokens\./,
    )
    refuses('[{"issuer":""}]', /issuer 1 needs "issuer"/)
  })

  it('refuses keys that are not non-empty strings, naming the issuer and the member', () => {
    refuses(
      '[{"issuer":"my-app","key":""}]',
      /^SSEHUB_TRUSTED_ISSUERS, issuer "my-app": "key" must be a non-empty string \(a secret, a PEM key, or a JWKS URL or file\)\./,
    )
    refuses(
      '[{"issuer":"my-app","subscriberKey":42}]',
      /issuer "my-app": "subscriberKey" must be a non-empty string/,
    )
  })

  it('refuses an authorizationServer that is not a boolean', () => {
    refuses(
      '[{"issuer":"https://auth.example.com","authorizationServer":"yes"}]',
      /^SSEHUB_TRUSTED_ISSUERS, issuer "https:\/\/auth\.example\.com": "authorizationServer" must be true or false\./,
    )
  })

  it('refuses algorithms that are not a non-empty list of names, or that list none', () => {
    for (const algorithms of ['"ES256"', '[]', '[""]', '[256]']) {
      refuses(
        `[{"issuer":"my-app","algorithms":${algorithms}}]`,
        /^SSEHUB_TRUSTED_ISSUERS, issuer "my-app": "algorithms" must be a non-empty array of names, e\.g\. \["ES256"\]\./,
      )
    }
    refuses(
      '[{"issuer":"my-app","algorithms":["HS256","None"]}]',
      /issuer "my-app": "algorithms" lists "none": unsigned tokens are never accepted\. Remove it\./,
    )
  })

  it('refuses an issuer listed twice', () => {
    refuses(
      'my-app, my-app',
      /^SSEHUB_TRUSTED_ISSUERS lists the issuer "my-app" twice: give each issuer one entry\./,
    )
    refuses('[{"issuer":"a"},{"issuer":"a","key":"x"}]', /lists the issuer "a" twice/)
  })

  it('refuses an issuer with a ":" that is not a URI, or with a control character', () => {
    assert.throws(
      () => config(['--trusted-issuers', ':my-app']),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message ===
          '--trusted-issuers: ":my-app" holds a ":" but is not a URI. An issuer is a URL (https://auth.example.com) or a name without ":" (my-app).',
    )
    refuses(
      '[{"issuer":"my\\u0007app"}]',
      /^SSEHUB_TRUSTED_ISSUERS: an issuer identifier holds a control character\./,
    )
  })
})

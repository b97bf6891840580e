import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig, type ServerConfig, USAGE } from './config.ts'
import { protocolSummary, protocolWarnings } from './protocol-config.ts'

function config(argv: string[], env: Record<string, string> = {}): ServerConfig {
  const loaded = loadConfig(argv, { SSEHUB_JWT_KEY: 'k'.repeat(40), ...env })
  assert.equal(loaded.help, false)
  return (loaded as { config: ServerConfig }).config
}

/** Asserts that loading throws a ConfigError whose message matches `message`. */
function refuses(argv: string[], env: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => config(argv, env),
    (error: unknown) => error instanceof ConfigError && message.test(error.message),
  )
}

describe('--protocols', () => {
  it('speaks 1.0 and 0.x by default', () => {
    assert.deepEqual(config([]).protocols, ['1.0', '0.x'])
  })

  it('turns the other off when one is named alone, and keeps each once', () => {
    assert.deepEqual(config([], { SSEHUB_PROTOCOLS: '1.0' }).protocols, ['1.0'])
    assert.deepEqual(config(['--protocols', '0.x']).protocols, ['0.x'])
    assert.deepEqual(config([], { SSEHUB_PROTOCOLS: '0.x 1.0,0.x' }).protocols, ['0.x', '1.0'])
  })

  it('takes the flag over the environment', () => {
    assert.deepEqual(config(['--protocols', '0.x'], { SSEHUB_PROTOCOLS: '1.0' }).protocols, ['0.x'])
  })

  it('refuses any other version, or none, naming the setting', () => {
    refuses(
      [],
      { SSEHUB_PROTOCOLS: '1.0,2.0' },
      /^SSEHUB_PROTOCOLS lists "2.0": the protocols are 1.0 and 0.x\. Write "1.0,0.x" for both/,
    )
    refuses(['--protocols', '1'], {}, /^--protocols lists "1"/)
    refuses(['--protocols', ' , '], {}, /^--protocols must list 1.0, 0.x or both; got " , "\./)
  })
})

describe('--resource-identifier', () => {
  const pinned = 'https://Hub.example.com/.well-known/mercure'

  it('is derived per request by default', () => {
    assert.equal(config([]).resourceIdentifier, null)
  })

  it("is kept as written (a token's aud is compared with it exactly), from the flag, SSEHUB_ or MERCURE_ variable", () => {
    assert.equal(config([], { SSEHUB_RESOURCE_IDENTIFIER: pinned }).resourceIdentifier, pinned)
    assert.equal(config([], { MERCURE_RESOURCE_IDENTIFIER: pinned }).resourceIdentifier, pinned)
    assert.equal(
      config([], {
        SSEHUB_RESOURCE_IDENTIFIER: 'https://a.example/',
        MERCURE_RESOURCE_IDENTIFIER: 'https://b.example/',
      }).resourceIdentifier,
      'https://a.example/',
    )
    assert.equal(
      config(['--resource-identifier', pinned], {
        SSEHUB_RESOURCE_IDENTIFIER: 'https://a.example/',
      }).resourceIdentifier,
      pinned,
    )
  })

  it('refuses what is not an absolute http(s) URL, or has a fragment', () => {
    for (const value of [
      '/.well-known/mercure',
      'hub.example.com',
      'urn:example:hub',
      'https://',
    ]) {
      refuses(
        ['--resource-identifier', value],
        {},
        /^--resource-identifier must be an absolute http\(s\) URL, e.g. https:\/\/hub.example.com\/.well-known\/mercure/,
      )
    }
    refuses(
      [],
      { MERCURE_RESOURCE_IDENTIFIER: 'https://hub.example.com/.well-known/mercure#' },
      /^MERCURE_RESOURCE_IDENTIFIER must not have a fragment/,
    )
  })
})

describe('--public-urls', () => {
  it('accepts any origin by default', () => {
    assert.equal(config([]).publicUrls, null)
  })

  it('reads origins, lower-cased, without a default port, each once', () => {
    assert.deepEqual(
      config([], {
        SSEHUB_PUBLIC_URLS:
          'https://Hub.Example.com/, http://localhost:3000 https://hub.example.com:443',
      }).publicUrls,
      ['https://hub.example.com', 'http://localhost:3000'],
    )
  })

  it('takes MERCURE_PUBLIC_URLS too, SSEHUB_PUBLIC_URLS over it, and the flag over both', () => {
    const env = { MERCURE_PUBLIC_URLS: 'https://m.example' }
    assert.deepEqual(config([], env).publicUrls, ['https://m.example'])
    const both = { ...env, SSEHUB_PUBLIC_URLS: 'https://s.example' }
    assert.deepEqual(config([], both).publicUrls, ['https://s.example'])
    assert.deepEqual(config(['--public-urls', 'https://f.example'], both).publicUrls, [
      'https://f.example',
    ])
  })

  it('refuses a path, query, fragment or user, and says what to write instead', () => {
    for (const value of [
      'https://hub.example.com/.well-known/mercure',
      'https://hub.example.com/?x=1',
      'https://hub.example.com#top',
      'https://ada@hub.example.com',
    ]) {
      refuses(
        ['--public-urls', value],
        {},
        /^--public-urls: ".*" has more than an origin \(a path, query, fragment or user\)\. Write scheme, host and port only, e\.g\. "https:\/\/hub\.example\.com"\./,
      )
    }
  })

  it('refuses what is not an absolute http(s) URL, and an empty list', () => {
    refuses(
      [],
      { SSEHUB_PUBLIC_URLS: 'hub.example.com' },
      /^SSEHUB_PUBLIC_URLS: "hub.example.com" is not an absolute http\(s\) URL/,
    )
    refuses([], { SSEHUB_PUBLIC_URLS: 'ftp://hub.example.com' }, /is not an absolute http\(s\) URL/)
    refuses(['--public-urls', ','], {}, /^--public-urls lists no URL; unset it to accept any\./)
  })
})

describe('--cookie-name', () => {
  it('is unset by default: both the 1.0 and the 0.x cookie are read', () => {
    assert.equal(config([]).cookieName, null)
  })

  it('names the one cookie read, from the flag over the environment', () => {
    assert.equal(config([], { SSEHUB_COOKIE_NAME: 'hubToken' }).cookieName, 'hubToken')
    assert.equal(
      config(['--cookie-name', 'mercureAuthorization'], { SSEHUB_COOKIE_NAME: 'hubToken' })
        .cookieName,
      'mercureAuthorization',
    )
  })

  it('refuses a name a Cookie header cannot carry', () => {
    refuses(['--cookie-name', 'a;b'], {}, /^--cookie-name is not a valid cookie name: "a;b"\./)
  })
})

describe('protocolWarnings', () => {
  it('has nothing to say about the defaults, or a pinned https identifier', () => {
    assert.deepEqual(protocolWarnings(config([])), [])
    const pinned = config(['--resource-identifier', 'https://hub.example.com/.well-known/mercure'])
    assert.deepEqual(protocolWarnings(pinned), [])
  })

  it('warns of an identifier that is not https', () => {
    const c = config([], {
      SSEHUB_RESOURCE_IDENTIFIER: 'http://localhost:3000/.well-known/mercure',
    })
    assert.deepEqual(protocolWarnings(c), [
      'the resource identifier http://localhost:3000/.well-known/mercure is not https: tokens for it travel in clear text',
    ])
  })

  it('warns of an identifier whose origin is not one of the public URLs', () => {
    const c = config([], {
      SSEHUB_RESOURCE_IDENTIFIER: 'https://hub.example.com/.well-known/mercure',
      SSEHUB_PUBLIC_URLS: 'https://other.example.com',
    })
    assert.deepEqual(protocolWarnings(c), [
      "the resource identifier's origin https://hub.example.com is not one of the public URLs: requests sent there get 421",
    ])
  })

  it('warns of 1.0 settings while 1.0 is off', () => {
    const c = config(['--protocols', '0.x'], {
      SSEHUB_TRUSTED_ISSUERS: 'https://auth.example.com',
      SSEHUB_RESOURCE_IDENTIFIER: 'https://hub.example.com/.well-known/mercure',
    })
    assert.deepEqual(protocolWarnings(c), [
      'Mercure 1.0 is off (--protocols 0.x): the resource identifier and the trusted issuers go unused',
    ])
    assert.deepEqual(protocolWarnings(config(['--protocols', '0.x'])), [])
  })
})

describe('protocolSummary', () => {
  it('says what is spoken, whose tokens are trusted and that the identifier is derived', () => {
    const { fields, message } = protocolSummary(config([]))
    assert.deepEqual(fields, {
      protocols: ['1.0', '0.x'],
      trustedIssuers: ['ssehub'],
      resourceIdentifier: 'derived per request: <scheme>://<host>/.well-known/mercure',
      publicUrls: 'any',
    })
    assert.equal(
      message,
      'Mercure 1.0 and 0.x; 1.0 tokens from ssehub; resource identifier derived per request: <scheme>://<host>/.well-known/mercure',
    )
  })

  it('names the issuers only, never their keys, and a pinned identifier', () => {
    const secret = 's3cr3t-'.repeat(8)
    const summary = protocolSummary(
      config(['--resource-identifier', 'https://hub.example.com/.well-known/mercure'], {
        SSEHUB_TRUSTED_ISSUERS: JSON.stringify([
          { issuer: 'https://auth.example.com', key: secret, authorizationServer: true },
          { issuer: 'my-app', publisherKey: secret, subscriberKey: secret },
        ]),
        SSEHUB_PUBLIC_URLS: 'https://hub.example.com',
      }),
    )
    assert.deepEqual(summary.fields.trustedIssuers, ['https://auth.example.com', 'my-app'])
    assert.equal(
      summary.fields.resourceIdentifier,
      'pinned: https://hub.example.com/.well-known/mercure',
    )
    assert.deepEqual(summary.fields.publicUrls, ['https://hub.example.com'])
    assert.ok(!JSON.stringify(summary).includes('s3cr3t'), 'no key in the log line')
  })

  it('names no issuer when 1.0 is off', () => {
    const { fields, message } = protocolSummary(config(['--protocols', '0.x']))
    assert.deepEqual(fields.trustedIssuers, [])
    assert.equal(message, 'Mercure 0.x')
  })
})

describe('the protocol settings in --help', () => {
  it('list each flag with its first variable and its default', () => {
    assert.match(USAGE, /--protocols <list> +SSEHUB_PROTOCOLS .*\(1\.0,0\.x\)/)
    assert.match(USAGE, /--trusted-issuers <list> +SSEHUB_TRUSTED_ISSUERS .*\(ssehub\)/)
    assert.match(
      USAGE,
      /--resource-identifier <url> +SSEHUB_RESOURCE_IDENTIFIER .*\(derived per request\)/,
    )
    assert.match(USAGE, /--public-urls <list> +SSEHUB_PUBLIC_URLS .*\(any\)/)
    assert.match(
      USAGE,
      /--cookie-name <name> +SSEHUB_COOKIE_NAME .*\(both: __Secure-mercure_access_token, mercureAuthorization\)/,
    )
    assert.match(
      USAGE,
      /MERCURE_TRUSTED_ISSUERS,\nMERCURE_RESOURCE_IDENTIFIER, MERCURE_PUBLIC_URLS\./,
    )
  })
})

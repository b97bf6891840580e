import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig, type ServerConfig, USAGE } from './config.ts'

const SECRET = 's'.repeat(32)

function config(argv: string[], env: Record<string, string> = {}): ServerConfig {
  const loaded = loadConfig(argv, { SSEHUB_JWT_KEY: 'k'.repeat(40), ...env })
  assert.equal(loaded.help, false)
  return (loaded as { config: ServerConfig }).config
}

/** Asserts a ConfigError matching `pattern` that quotes neither the secret nor `hidden`. */
function refuses(
  argv: string[],
  env: Record<string, string>,
  pattern: RegExp,
  hidden: readonly string[] = [],
): void {
  assert.throws(
    () => config(argv, env),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError, String(error))
      assert.match(error.message, pattern)
      for (const secret of hidden) assert.ok(!error.message.includes(secret), 'quotes a secret')
      return true
    },
  )
}

describe('webhook settings', () => {
  it('are off by default, with a 10,000-event queue and a 10 s timeout when on', () => {
    assert.equal(config([]).webhooks, null)
    const c = config([], {
      SSEHUB_WEBHOOK_URL: 'https://app.example/hooks',
      SSEHUB_WEBHOOK_SECRET: SECRET,
    })
    assert.deepEqual(c.webhooks, {
      urls: ['https://app.example/hooks'],
      secret: SECRET,
      maxQueue: 10_000,
      timeoutMs: 10_000,
    })
  })

  it('take several URLs, space-separated in the environment or one per repeated flag', () => {
    const env = {
      SSEHUB_WEBHOOK_URL:
        ' https://a.example/h#subscribe\n  https://b.example/h#unsubscribe,node-lost ',
      SSEHUB_WEBHOOK_SECRET: SECRET,
    }
    assert.deepEqual(config([], env).webhooks?.urls, [
      'https://a.example/h#subscribe',
      'https://b.example/h#unsubscribe,node-lost',
    ])
    const flags = config(
      [
        '--webhook-url',
        'https://c.example/1',
        '--webhook-url',
        'http://127.0.0.1:8080/2#node-lost',
      ],
      env,
    )
    assert.deepEqual(flags.webhooks?.urls, [
      'https://c.example/1',
      'http://127.0.0.1:8080/2#node-lost',
    ])
  })

  it('read the queue bound and the timeout, at their minimums and refused below', () => {
    const env = { SSEHUB_WEBHOOK_URL: 'https://a.example/h', SSEHUB_WEBHOOK_SECRET: SECRET }
    const c = config(['--webhook-queue', '1', '--webhook-timeout', '100ms'], env)
    assert.equal(c.webhooks?.maxQueue, 1)
    assert.equal(c.webhooks?.timeoutMs, 100)
    refuses(['--webhook-queue', '0'], env, /--webhook-queue must be a whole number of at least 1/)
    refuses(
      [],
      { ...env, SSEHUB_WEBHOOK_TIMEOUT: '99ms' },
      /SSEHUB_WEBHOOK_TIMEOUT must be a duration/,
    )
    refuses([], { ...env, SSEHUB_WEBHOOK_TIMEOUT: 'off' }, /SSEHUB_WEBHOOK_TIMEOUT/)
  })

  it('require a secret of at least 32 characters, never quoting it', () => {
    const url = { SSEHUB_WEBHOOK_URL: 'https://a.example/h' }
    refuses([], url, /set SSEHUB_WEBHOOK_SECRET/)
    const short = 'changeme-changeme-changeme-1234'
    assert.equal(short.length, 31)
    refuses(
      [],
      { ...url, SSEHUB_WEBHOOK_SECRET: short },
      /SSEHUB_WEBHOOK_SECRET is shorter than 32/,
      [short],
    )
    refuses(['--webhook-secret', short], url, /--webhook-secret is shorter than 32/, [short])
    assert.equal(
      config([], { ...url, SSEHUB_WEBHOOK_SECRET: `${short}5` }).webhooks?.secret.length,
      32,
    )
  })

  it('refuse URLs that cannot be used, naming which one and never quoting it', () => {
    const env = { SSEHUB_WEBHOOK_SECRET: SECRET }
    const bad: Array<[string, RegExp]> = [
      ['/relative/path', /URL 1 is not an absolute URL/],
      ['ftp://files.example/drop', /URL 1 must be an http: or https: URL, not ftp:/],
      ['https://user:hunter2-token@app.example/h', /URL 1 holds credentials/],
      [
        'https://app.example/h#subscribe,offline',
        /URL 1 selects an unknown event "offline".*subscribe, unsubscribe, node-lost/,
      ],
    ]
    for (const [url, pattern] of bad) {
      refuses([], { ...env, SSEHUB_WEBHOOK_URL: url }, pattern, ['hunter2-token'])
    }
    refuses(
      [],
      { ...env, SSEHUB_WEBHOOK_URL: 'https://ok.example/h?token=abc123secret ftp://x/y' },
      /SSEHUB_WEBHOOK_URL: URL 2 must be an http: or https: URL/,
      ['abc123secret'],
    )
  })

  it('appear in --help', () => {
    for (const flag of [
      '--webhook-url',
      '--webhook-secret',
      '--webhook-queue',
      '--webhook-timeout',
    ]) {
      assert.match(USAGE, new RegExp(`${flag} `))
    }
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig, type ServerConfig } from './config.ts'

function config(argv: string[], env: Record<string, string> = {}): ServerConfig {
  const loaded = loadConfig(argv, env)
  assert.equal(loaded.help, false)
  return (loaded as { config: ServerConfig }).config
}

describe('loadConfig', () => {
  it('has defaults that serve on port 3000 of every interface with a 15 s heartbeat', () => {
    const c = config([])
    assert.equal(c.port, 3000)
    assert.equal(c.host, '0.0.0.0')
    assert.equal(c.heartbeatMs, 15_000)
    assert.equal(c.tls, null)
    assert.equal(c.logFormat, 'json')
  })

  it('reads the environment, and flags win over it', () => {
    const env = { PORT: '4000', HOST: '127.0.0.1', SSEHUB_HEARTBEAT: '20s' }
    assert.deepEqual(
      [config([], env).port, config([], env).host, config([], env).heartbeatMs],
      [4000, '127.0.0.1', 20_000],
    )
    assert.equal(config(['--port', '5000'], env).port, 5000)
    assert.equal(config(['--heartbeat', 'off'], env).heartbeatMs, null)
  })

  it('says how to fix a bad port, heartbeat, log level or TLS pair', () => {
    assert.throws(
      () => config([], { PORT: 'eighty' }),
      (e: ConfigError) => /PORT must be a whole number/.test(e.message),
    )
    assert.throws(() => config([], { PORT: '70000' }), ConfigError)
    assert.throws(
      () => config([], { SSEHUB_HEARTBEAT: '5 minutes' }),
      /SSEHUB_HEARTBEAT must be a duration/,
    )
    assert.throws(() => config([], { SSEHUB_HEARTBEAT: '10ms' }), /at least 100ms/)
    assert.throws(() => config([], { SSEHUB_LOG_LEVEL: 'loud' }), /SSEHUB_LOG_LEVEL must be one of/)
    assert.throws(() => config(['--cert', 'a.pem']), /needs both --cert and --key/)
    assert.throws(
      () => config(['--cert', '/nope/c.pem', '--key', '/nope/k.pem']),
      /Cannot read the TLS certificate at "\/nope\/c.pem": ENOENT/,
    )
  })

  it('refuses unknown flags and commands with the usage text', () => {
    assert.throws(
      () => config(['--prot', '1']),
      (e: Error) => e instanceof ConfigError && /Usage: ssehub/.test(e.message),
    )
    assert.throws(() => config(['launch']), /Unknown command "launch"/)
  })

  it('answers --help', () => {
    assert.deepEqual(loadConfig(['--help'], {}), { help: true })
  })
})

describe('loadConfig: the hub settings', () => {
  const secret = 'x'.repeat(40)

  it('runs in development mode when no key is set, with anonymous subscribers and SQLite in ./data', () => {
    const c = config([])
    assert.equal(c.devMode, true)
    assert.equal(c.anonymous, true)
    assert.deepEqual(c.store, { kind: 'sqlite', path: './data/ssehub.db' })
    assert.equal(c.subscriptions, false)
    assert.equal(c.maxBodyBytes, 1_048_576)
    assert.equal(c.maxLifetimeMs, 600_000)
  })

  it("takes Mercure's variable names, and one shared key for both sides", () => {
    const mercure = config([], {
      MERCURE_PUBLISHER_JWT_KEY: 'p'.repeat(40),
      MERCURE_SUBSCRIBER_JWT_KEY: 's'.repeat(40),
      MERCURE_PUBLISHER_JWT_ALG: 'HS512',
    })
    assert.equal(mercure.publisherKey, 'p'.repeat(40))
    assert.equal(mercure.subscriberKey, 's'.repeat(40))
    assert.deepEqual(mercure.publisherAlgorithms, ['HS512'])
    assert.equal(mercure.subscriberAlgorithms, null)
    assert.equal(mercure.devMode, false)
    assert.equal(mercure.anonymous, false)
    const shared = config([], { SSEHUB_JWT_KEY: secret, SSEHUB_JWT_ALG: 'HS256,HS384' })
    assert.equal(shared.publisherKey, secret)
    assert.equal(shared.subscriberKey, secret)
    assert.deepEqual(shared.subscriberAlgorithms, ['HS256', 'HS384'])
  })

  it('refuses a half-configured key pair and an alg list with none', () => {
    assert.throws(() => config([], { SSEHUB_PUBLISHER_JWT_KEY: secret }), /no subscriber key/)
    assert.throws(
      () => config([], { SSEHUB_JWT_KEY: secret, SSEHUB_JWT_ALG: 'HS256,none' }),
      /"none": unsigned tokens are never accepted/,
    )
  })

  it('reads stores, origins, booleans and durations, and says what is wrong', () => {
    assert.deepEqual(config([], { SSEHUB_STORE: 'memory' }).store, { kind: 'memory' })
    assert.deepEqual(config(['--store', 'sqlite:/tmp/x.db']).store, {
      kind: 'sqlite',
      path: '/tmp/x.db',
    })
    assert.throws(
      () => config([], { SSEHUB_STORE: 'postgres://db' }),
      /SSEHUB_STORE must be "memory", "sqlite:<path>" or "redis:\/\/host:port"/,
    )
    assert.deepEqual(
      config([], { SSEHUB_CORS_ORIGINS: 'https://a.example, https://b.example:8443' }).corsOrigins,
      ['https://a.example', 'https://b.example:8443'],
    )
    assert.equal(config([], { SSEHUB_CORS_ORIGINS: '*' }).corsOrigins, '*')
    assert.throws(
      () => config([], { SSEHUB_PUBLISH_ORIGINS: 'https://a.example/path' }),
      /is not an origin/,
    )
    assert.equal(config([], { SSEHUB_SUBSCRIPTIONS: 'yes' }).subscriptions, true)
    assert.throws(
      () => config([], { SSEHUB_SUBSCRIPTIONS: 'maybe' }),
      /SSEHUB_SUBSCRIPTIONS must be true or false/,
    )
    assert.equal(config(['--max-lifetime', 'off']).maxLifetimeMs, null)
    assert.equal(config([], { SSEHUB_HISTORY_AGE: '1h' }).historyAgeMs, 3_600_000)
    assert.throws(
      () => config([], { SSEHUB_MAX_BODY: '1MB' }),
      /SSEHUB_MAX_BODY must be a whole number/,
    )
    assert.throws(() => config([], { SSEHUB_COOKIE_NAME: 'a b' }), /not a valid cookie name/)
  })
})

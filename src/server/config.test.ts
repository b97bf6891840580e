import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig, type ServerConfig } from './config.ts'
import { defaultMaxConnections } from './open-files-limit.ts'

function config(argv: string[], env: Record<string, string> = {}): ServerConfig {
  const loaded = loadConfig(argv, env)
  assert.equal(loaded.help, false)
  return (loaded as { config: ServerConfig }).config
}

describe('loadConfig', () => {
  it('has defaults that serve on port 3000 of every interface with a 15 s heartbeat', () => {
    const c = config([], { SSEHUB_JWT_KEY: 'k'.repeat(40) })
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
    assert.equal(c.host, '127.0.0.1', 'on this machine only')
    assert.equal(config([], { HOST: '0.0.0.0' }).host, '0.0.0.0', 'unless HOST says otherwise')
    assert.equal(config(['--host', '::']).host, '::')
    assert.equal(c.anonymous, true)
    assert.deepEqual(c.store, { kind: 'sqlite', path: './data/ssehub.db' })
    assert.equal(c.subscriptions, false)
    assert.equal(c.maxBodyBytes, 1_048_576)
    assert.equal(c.maxLifetimeMs, 600_000)
  })

  it('gives a publish body 10 s by default, takes --body-timeout or "off", and refuses a non-duration', () => {
    assert.equal(config([]).bodyTimeoutMs, 10_000)
    assert.equal(config(['--body-timeout', '2s']).bodyTimeoutMs, 2000)
    assert.equal(config([], { SSEHUB_BODY_TIMEOUT: 'off' }).bodyTimeoutMs, null)
    assert.throws(
      () => config(['--body-timeout', 'soon']),
      /--body-timeout must be a duration of at least 100ms/,
    )
  })

  it('bounds connections: headers 10 s, requests 30 s, idle 5 s, 100 HTTP/2 streams, a cap under ulimit -n', () => {
    const c = config([])
    assert.equal(c.headersTimeoutMs, 10_000)
    assert.equal(c.requestTimeoutMs, 30_000)
    assert.equal(c.keepAliveTimeoutMs, 5000)
    assert.equal(c.http2MaxStreams, 100)
    assert.equal(c.maxConnections, defaultMaxConnections())
    const set = config(
      ['--headers-timeout', '2s', '--request-timeout', 'off', '--max-connections', '500'],
      { SSEHUB_KEEP_ALIVE_TIMEOUT: '1s', SSEHUB_H2_MAX_STREAMS: '20' },
    )
    assert.deepEqual(
      [set.headersTimeoutMs, set.requestTimeoutMs, set.keepAliveTimeoutMs, set.maxConnections],
      [2000, null, 1000, 500],
    )
    assert.equal(set.http2MaxStreams, 20)
    assert.equal(config(['--max-connections', 'off']).maxConnections, null)
    assert.throws(
      () => config(['--headers-timeout', '20s', '--request-timeout', '10s']),
      /--request-timeout \(10s\) is shorter than --headers-timeout \(20s\)/,
    )
    assert.throws(() => config(['--max-connections', '0']), /--max-connections must be a whole/)
    assert.throws(
      () => config(['--headers-timeout', 'off']),
      /--headers-timeout must be a duration/,
    )
  })

  it('bounds ids to 256 bytes and heads to 16384, serves /metrics on the main port with no token by default', () => {
    const c = config([])
    assert.deepEqual(
      [c.maxIdBytes, c.maxHeaderBytes, c.metricsToken, c.metricsListen],
      [256, 16_384, null, null],
    )
    assert.equal(config(['--max-id-bytes', '1024']).maxIdBytes, 1024)
    assert.throws(
      () => config(['--max-id-bytes', '2048']),
      /--max-id-bytes must be a whole number from 1 to 1024/,
    )
    assert.throws(() => config([], { SSEHUB_MAX_HEADER_BYTES: '100' }), /from 4096 to 65536/)
    const token = 'f'.repeat(32)
    assert.equal(config([], { SSEHUB_METRICS_TOKEN: token }).metricsToken, token)
    assert.throws(
      () => config(['--metrics-token', 'secret']),
      (e: ConfigError) => /shorter than 16/.test(e.message) && !e.message.includes('secret"'),
    )
    assert.deepEqual(config(['--metrics-listen', '9090']).metricsListen, {
      host: '127.0.0.1',
      port: 9090,
    })
    assert.deepEqual(config(['--metrics-listen', '0.0.0.0:9090']).metricsListen, {
      host: '0.0.0.0',
      port: 9090,
    })
    assert.deepEqual(config([], { SSEHUB_METRICS_LISTEN: '[::1]:9090' }).metricsListen, {
      host: '::1',
      port: 9090,
    })
    assert.throws(() => config(['--metrics-listen', 'localhost']), /"host:port", "\[ipv6\]:port"/)
    assert.throws(() => config(['--metrics-listen', '3000']), /the main port/)
  })

  it('bounds template work to 4096 states a topic and 1048576 in all, 1000 subscriptions per address and per token, each "off" or a number', () => {
    const c = config([])
    assert.deepEqual(
      [
        c.maxTemplateWork,
        c.maxTemplateStates,
        c.maxSubscriptionsPerAddress,
        c.maxSubscriptionsPerToken,
      ],
      [4096, 1_048_576, 1000, 1000],
    )
    const set = config(['--max-template-work', 'off', '--max-per-address', '50000'], {
      SSEHUB_MAX_TEMPLATE_STATES: '2000000',
      SSEHUB_MAX_PER_TOKEN: 'off',
    })
    assert.deepEqual(
      [
        set.maxTemplateWork,
        set.maxTemplateStates,
        set.maxSubscriptionsPerAddress,
        set.maxSubscriptionsPerToken,
      ],
      [null, 2_000_000, 50_000, null],
    )
    assert.throws(
      () => config(['--max-per-token', '0']),
      /--max-per-token must be a whole number of at least 1, or "off"; got "0"/,
    )
    assert.throws(
      () => config([], { SSEHUB_MAX_TEMPLATE_WORK: 'lots' }),
      /SSEHUB_MAX_TEMPLATE_WORK/,
    )
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

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

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, loadConfig, type ServerConfig, USAGE } from './config.ts'

function config(argv: string[], env: Record<string, string> = {}): ServerConfig {
  const loaded = loadConfig(argv, { SSEHUB_JWT_KEY: 'k'.repeat(40), ...env })
  assert.equal(loaded.help, false)
  return (loaded as { config: ServerConfig }).config
}

describe('subscription event settings', () => {
  it('default to 50 events a second per client address and the first 100 selectors', () => {
    const c = config([])
    assert.equal(c.subscriptionEventRate, 50)
    assert.equal(c.subscriptionEventSelectors, 100)
  })

  it('read the environment and the flags, and "off" lifts the rate limit', () => {
    const c = config(['--sub-events-topics', '10'], { SSEHUB_SUB_EVENTS_RATE: '5' })
    assert.equal(c.subscriptionEventRate, 5)
    assert.equal(c.subscriptionEventSelectors, 10)
    assert.equal(config(['--sub-events-rate', 'off']).subscriptionEventRate, null)
  })

  it('refuse what is not a whole number of at least 1, naming the setting', () => {
    assert.throws(
      () => config([], { SSEHUB_SUB_EVENTS_RATE: '0.5' }),
      (error: unknown) =>
        error instanceof ConfigError && /SSEHUB_SUB_EVENTS_RATE .*or "off"/.test(error.message),
    )
    assert.throws(
      () => config(['--sub-events-topics', '0']),
      (error: unknown) => error instanceof ConfigError && /--sub-events-topics/.test(error.message),
    )
  })

  it('appear in --help', () => {
    assert.match(USAGE, /--sub-events-rate <n> +SSEHUB_SUB_EVENTS_RATE/)
    assert.match(USAGE, /--sub-events-topics <n> +SSEHUB_SUB_EVENTS_TOPICS/)
  })
})

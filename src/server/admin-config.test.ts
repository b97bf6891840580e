import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { adminSettings } from './admin-config.ts'
import { ConfigError } from './config-error.ts'

const from = 'SSEHUB_ADMIN_TOKEN'

describe('adminSettings', () => {
  it('is off without a token', () => {
    assert.deepEqual(
      adminSettings(() => undefined),
      { adminToken: null },
    )
  })

  it('takes a token of 16 characters or more', () => {
    const token = 'a'.repeat(16)
    assert.deepEqual(
      adminSettings(() => ({ value: token, from })),
      { adminToken: token },
    )
  })

  it('refuses a placeholder shorter than 16 characters without quoting it', () => {
    assert.throws(
      () => adminSettings(() => ({ value: 'changeme-secret', from })),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message.includes(from) &&
        !error.message.includes('changeme'),
    )
  })

  it('refuses white space, which a Bearer header cannot carry', () => {
    assert.throws(
      () => adminSettings(() => ({ value: 'a long admin token with spaces', from })),
      ConfigError,
    )
  })
})

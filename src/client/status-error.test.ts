import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { retryAfterMs } from './status-error.ts'

describe('retryAfterMs', () => {
  const now = Date.parse('2026-12-06T12:00:00Z')

  it('reads delay-seconds and an HTTP-date', () => {
    assert.equal(retryAfterMs('30', now), 30_000)
    assert.equal(retryAfterMs(' 0 ', now), 0)
    assert.equal(retryAfterMs('Sun, 06 Dec 2026 12:00:05 GMT', now), 5000)
  })

  it('is 0 when absent, unreadable or in the past', () => {
    assert.equal(retryAfterMs(null, now), 0)
    assert.equal(retryAfterMs('soon', now), 0)
    assert.equal(retryAfterMs('-5', now), 0)
    assert.equal(retryAfterMs('Sun, 06 Dec 2026 11:00:00 GMT', now), 0)
  })

  it('never asks for more than 10 minutes, whatever the server says', () => {
    assert.equal(retryAfterMs('86400', now), 600_000)
    assert.equal(retryAfterMs('9'.repeat(400), now), 600_000)
    assert.equal(retryAfterMs('Fri, 31 Dec 9999 23:59:59 GMT', now), 600_000)
  })
})

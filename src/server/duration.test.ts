import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseDuration } from './duration.ts'

describe('parseDuration', () => {
  it('reads milliseconds, seconds, minutes and hours', () => {
    assert.equal(parseDuration('500ms'), 500)
    assert.equal(parseDuration('15s'), 15_000)
    assert.equal(parseDuration('1.5s'), 1500)
    assert.equal(parseDuration('2m'), 120_000)
    assert.equal(parseDuration('1h'), 3_600_000)
  })

  it('takes a bare number as milliseconds', () => {
    assert.equal(parseDuration('250'), 250)
  })

  it('refuses anything else', () => {
    for (const text of ['', 's', '-1s', '1 d', '15 seconds', '1e3', 'Infinity']) {
      assert.equal(parseDuration(text), undefined, text)
    }
  })
})

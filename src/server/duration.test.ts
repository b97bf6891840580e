import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatDuration, parseDuration } from './duration.ts'

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

describe('formatDuration', () => {
  it('writes the largest unit that holds the duration whole', () => {
    assert.equal(formatDuration(15_000), '15s')
    assert.equal(formatDuration(600_000), '10m')
    assert.equal(formatDuration(7_200_000), '2h')
    assert.equal(formatDuration(1500), '1500ms')
    assert.equal(formatDuration(0), '0ms')
  })

  it('is read back by parseDuration', () => {
    for (const ms of [1, 999, 1000, 5000, 90_000, 3_600_000, 5_400_000]) {
      assert.equal(parseDuration(formatDuration(ms)), ms, String(ms))
    }
  })
})

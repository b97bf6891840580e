import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { createOutageLog } from './outage-log.ts'

describe('createOutageLog', () => {
  it('logs the first failure with its error, counts the rest, and logs the recovery once', () => {
    const lines: Array<{ level: number; msg: string; failures?: number; err?: unknown }> = []
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(JSON.parse(chunk.toString('utf8')))
        done()
      },
    })
    const log = createOutageLog({
      logger: pino<never>({ level: 'info' }, sink),
      failing: 'store unavailable',
      recovered: 'store available again',
    })
    log.succeeded()
    assert.equal(lines.length, 0, 'nothing to recover from')
    for (let n = 0; n < 2800; n++) log.failed(new Error('SQLITE_FULL'))
    assert.equal(log.failing, true)
    log.succeeded()
    log.succeeded()
    assert.deepEqual(
      lines.map((line) => [line.level, line.msg]),
      [
        [50, 'store unavailable (logged once until it recovers)'],
        [30, 'store available again after 2800 failure(s)'],
      ],
    )
    assert.ok(lines[0]?.err, 'the first failure carries its error')
    assert.equal(lines[1]?.failures, 2800)
    assert.equal(log.failing, false)
  })
})

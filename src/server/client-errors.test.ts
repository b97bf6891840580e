import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { classifyClientError, createClientErrorLog } from './client-errors.ts'

function capture(): { lines: Array<{ msg: string }>; logger: ReturnType<typeof pino<never>> } {
  const lines: Array<{ msg: string }> = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString('utf8')))
      done()
    },
  })
  return { lines, logger: pino<never>({ level: 'info' }, sink) }
}

const failure = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code })

describe('classifyClientError', () => {
  it('tells what clients cause from what the hub fails at', () => {
    assert.equal(classifyClientError(failure('ECONNRESET', 'aborted')), 'aborted')
    assert.equal(classifyClientError(failure('HPE_INVALID_EOF_STATE')), 'aborted')
    assert.equal(classifyClientError(failure('ECONNRESET', 'read ECONNRESET')), 'reset')
    assert.equal(classifyClientError(failure('EPIPE')), 'reset')
    assert.equal(classifyClientError(failure('ERR_HTTP_REQUEST_TIMEOUT')), 'timeout')
    assert.equal(classifyClientError(failure('HPE_HEADER_OVERFLOW')), 'oversize')
    assert.equal(classifyClientError(failure('HPE_INVALID_METHOD')), 'malformed')
    assert.equal(classifyClientError(failure('ERR_SSL_WRONG_VERSION_NUMBER')), 'tls')
    assert.equal(classifyClientError(new TypeError('a bug')), null)
    assert.equal(classifyClientError(failure('ENOSPC')), null)
    assert.equal(classifyClientError('a string'), null)
  })
})

describe('createClientErrorLog', () => {
  it('logs one line of counts per interval, and nothing for a quiet one', async () => {
    const { lines, logger } = capture()
    const log = createClientErrorLog({ logger, intervalMs: 50 })
    for (let n = 0; n < 500; n++) log.count('aborted')
    for (let n = 0; n < 12; n++) log.count('reset')
    assert.equal(lines.length, 0, 'not before the interval ends')
    await new Promise((resolve) => setTimeout(resolve, 120))
    assert.equal(lines.length, 1)
    assert.match(lines[0]?.msg ?? '', /^client errors in the last [\d.]+ s: aborted 500, reset 12$/)
    await new Promise((resolve) => setTimeout(resolve, 120))
    assert.equal(lines.length, 1, 'a quiet interval logs nothing')
    log.count('timeout')
    log.flush()
    assert.match(lines[1]?.msg ?? '', /: timeout 1$/)
  })
})

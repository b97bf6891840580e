import assert from 'node:assert/strict'
import type { IncomingMessage } from 'node:http'
import { PassThrough } from 'node:stream'
import { describe, it } from 'node:test'
import { BodyTimeoutError, BodyTooLargeError } from './body-errors.ts'
import { readBody } from './read-body.ts'

/** A request stream with the given headers, fed by the test. */
function fakeRequest(headers: Record<string, string> = {}): PassThrough & IncomingMessage {
  return Object.assign(new PassThrough(), { headers }) as unknown as PassThrough & IncomingMessage
}

describe('readBody', () => {
  it('resolves with a body within the limit', async () => {
    const req = fakeRequest()
    const body = readBody(req, 10)
    req.end('topic=a')
    assert.equal((await body).toString(), 'topic=a')
  })

  it('refuses a declared length over the limit before reading, and drops the body', async () => {
    const req = fakeRequest({ 'content-length': '2048' })
    await assert.rejects(readBody(req, 1024), BodyTooLargeError)
    req.write(Buffer.alloc(2048))
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(req.readableLength, 0, 'the refused body is buffered in the stream')
  })

  it('refuses a body that grows past the limit as soon as it does, not at its end', async () => {
    const req = fakeRequest()
    const body = readBody(req, 1024)
    req.write(Buffer.alloc(1000))
    req.write(Buffer.alloc(1000))
    await assert.rejects(body, /larger than 1024 bytes/)
    assert.equal(req.writableEnded, false)
    // The rest keeps flowing to nowhere: nothing of it is held.
    for (let i = 0; i < 64; i++) req.write(Buffer.alloc(64 * 1024))
    await new Promise((resolve) => setImmediate(resolve))
    assert.equal(req.readableLength, 0, 'the refused body is buffered in the stream')
    req.end()
  })

  it('gives up on a body that has not ended by timeoutMs, and reads no more of it', async () => {
    const req = fakeRequest({ 'content-length': '100' })
    const body = readBody(req, 1024, { timeoutMs: 50 })
    req.write('topic=a')
    const started = performance.now()
    await assert.rejects(body, BodyTimeoutError)
    assert.ok(performance.now() - started >= 40, 'gave up before the deadline')
    assert.equal(req.listenerCount('data'), 0)
  })

  it('has no deadline by default', async () => {
    const req = fakeRequest()
    const body = readBody(req, 1024)
    setTimeout(() => req.end('topic=a'), 100)
    assert.equal((await body).toString(), 'topic=a')
  })
})

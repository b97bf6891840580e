import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BodyTimeoutError, BodyTooLargeError } from '../http/body-errors.ts'
import { readRequestBody } from './read-request-body.ts'

const encoder = new TextEncoder()

/** A POST whose body arrives as `chunks`, then ends (or never does, with `stall`). */
function postOf(chunks: string[], options: { stall?: boolean; headers?: HeadersInit } = {}) {
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      if (!options.stall) controller.close()
    },
  })
  return new Request('http://localhost/', {
    method: 'POST',
    body,
    headers: options.headers ?? {},
    duplex: 'half',
  } as RequestInit)
}

describe('readRequestBody', () => {
  it('reads a body that arrives in pieces, whole', async () => {
    const body = await readRequestBody(postOf(['topic=a', '&data=', 'b']), 1024)
    assert.equal(new TextDecoder().decode(body), 'topic=a&data=b')
  })

  it('reads a request without a body as empty', async () => {
    const body = await readRequestBody(new Request('http://localhost/', { method: 'POST' }), 10)
    assert.equal(body.byteLength, 0)
  })

  it('refuses a declared Content-Length over the limit before reading a byte', async () => {
    const request = postOf(['x'.repeat(10)], { headers: { 'content-length': '2048' } })
    await assert.rejects(readRequestBody(request, 1024), BodyTooLargeError)
    assert.equal(request.bodyUsed, false)
  })

  it('stops at the limit when a body grows past it while streaming', async () => {
    const request = postOf(['x'.repeat(600), 'x'.repeat(600), 'x'.repeat(600)])
    await assert.rejects(readRequestBody(request, 1024), (error: unknown) => {
      assert.ok(error instanceof BodyTooLargeError)
      assert.equal(error.limit, 1024)
      return true
    })
  })

  it('gives up on a body that stalls past its deadline', async () => {
    const started = Date.now()
    await assert.rejects(
      readRequestBody(postOf(['topic='], { stall: true }), 1024, { timeoutMs: 50 }),
      BodyTimeoutError,
    )
    assert.ok(Date.now() - started < 2000)
  })
})

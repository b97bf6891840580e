import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import {
  createServer as createHttp2Server,
  connect as http2Connect,
  constants as http2Constants,
} from 'node:http2'
import { type AddressInfo, connect } from 'node:net'
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

describe('readBody on a real connection', () => {
  /** A server whose handler waits for the request to be complete, then reads its body. */
  async function serve(
    limit: number,
    seen: Array<{ complete: boolean; body?: string; error?: string }>,
  ): Promise<{ server: Server; port: number }> {
    const server = createServer(async (req, res) => {
      for (let i = 0; i < 200 && !req.complete; i++) await new Promise((r) => setTimeout(r, 5))
      const complete = req.complete
      try {
        const body = await readBody(req, limit)
        seen.push({ complete, body: body.toString() })
        res.end('ok')
      } catch (error) {
        seen.push({ complete, error: (error as Error).name })
        res.statusCode = 413
        res.end('too large')
      }
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return { server, port: (server.address() as AddressInfo).port }
  }

  /** Sends raw bytes in pieces on one connection and collects what comes back. */
  async function exchange(port: number, pieces: string[], answers: number): Promise<string> {
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    let received = ''
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      received += chunk
    })
    for (const piece of pieces) {
      socket.write(piece)
      await new Promise((r) => setTimeout(r, 20))
    }
    for (let i = 0; i < 200 && received.split('HTTP/1.1 ').length - 1 < answers; i++) {
      await new Promise((r) => setTimeout(r, 10))
    }
    socket.destroy()
    return received
  }

  it('takes a body that arrived whole, in several pieces, from the buffer, and keeps the connection', async () => {
    const seen: Array<{ complete: boolean; body?: string; error?: string }> = []
    const { server, port } = await serve(1024, seen)
    try {
      const head = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\n\r\n'
      const received = await exchange(port, [`${head}topic=`, 'a&b=cd', `${head}second=body!`], 2)
      assert.deepEqual(seen, [
        { complete: true, body: 'topic=a&b=cd' },
        { complete: true, body: 'second=body!' },
      ])
      assert.equal(received.match(/HTTP\/1.1 200/g)?.length, 2)
    } finally {
      server.close()
    }
  })

  it('refuses a whole body over the limit, and the connection still serves the next request', async () => {
    const seen: Array<{ complete: boolean; body?: string; error?: string }> = []
    const { server, port } = await serve(8, seen)
    try {
      const chunked = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
      const received = await exchange(
        port,
        [
          `${chunked}c\r\ntopic=a&b=cd\r\n0\r\n\r\n`,
          'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\na=b',
        ],
        2,
      )
      assert.deepEqual(seen, [
        { complete: true, error: 'BodyTooLargeError' },
        { complete: true, body: 'a=b' },
      ])
      assert.match(received, /HTTP\/1.1 413[\s\S]*HTTP\/1.1 200/)
    } finally {
      server.close()
    }
  })

  it('never takes part of an HTTP/2 body whose stream was reset as the whole body', async () => {
    const outcomes: string[] = []
    const server = createHttp2Server(async (req) => {
      await once(req, 'aborted')
      const read = readBody(req, 1024).then(
        (body) => `body ${body.toString()}`,
        (error: Error) => `error ${error.name}`,
      )
      outcomes.push(
        await Promise.race([read, new Promise<string>((r) => setTimeout(() => r('pending'), 200))]),
      )
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const client = http2Connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)
    try {
      const stream = client.request({ ':method': 'POST', ':path': '/', 'content-length': '100' })
      stream.write('topic=a&data=part')
      await new Promise((r) => setTimeout(r, 50))
      stream.close(http2Constants.NGHTTP2_CANCEL)
      for (let i = 0; i < 100 && outcomes.length === 0; i++)
        await new Promise((r) => setTimeout(r, 10))
      assert.equal(outcomes.length, 1)
      assert.notEqual(outcomes[0], 'body topic=a&data=part')
    } finally {
      client.close()
      server.close()
    }
  })
})

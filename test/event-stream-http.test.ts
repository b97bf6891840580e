import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { connect as connectHttp2, constants } from 'node:http2'
import { type AddressInfo, connect as connectTcp, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import type { EventStream } from '../src/core/event-stream.ts'
import { createHeartbeat } from '../src/core/heartbeat.ts'
import { openEventStream } from '../src/http/event-stream-response.ts'
import { readLastEventId } from '../src/http/last-event-id.ts'
import { createSsehubServer } from '../src/server/server.ts'
import { openRawSse } from './helpers/raw-sse.ts'
import { selfSignedCertificate } from './helpers/tls.ts'

describe('openEventStream over HTTP/1.1', () => {
  const heartbeat = createHeartbeat({ intervalMs: 40 })
  const streams: EventStream[] = []
  let url = ''
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const stream = openEventStream(req, res, { heartbeat, retry: 1500 })
    streams.push(stream)
    if (req.url === '/echo-id') stream.send({ data: readLastEventId(req.headers) ?? '(none)' })
    if (req.url === '/short') {
      stream.send({ data: 'a' })
      stream.send({ data: 'b' })
      setImmediate(() => stream.close('server-closed'))
    }
  })

  /** Sends `request` on a raw socket and resolves with all bytes read until `done` holds. */
  const exchange = (
    request: string,
    done: (text: string) => boolean,
  ): Promise<{ text: string; socket: Socket }> =>
    new Promise((resolve, reject) => {
      const socket = connectTcp((server.address() as AddressInfo).port, '127.0.0.1')
      let text = ''
      const timer = setTimeout(
        () => reject(new Error(`timed out with ${JSON.stringify(text)}`)),
        3000,
      )
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1')
        if (done(text)) {
          clearTimeout(timer)
          socket.removeAllListeners('data')
          resolve({ text, socket })
        }
      })
      socket.on('error', reject)
      socket.write(request)
    })

  /** Undoes chunked coding, checking every size line; returns the body and what follows. */
  const unchunk = (body: string): { body: string; rest: string } => {
    let out = ''
    let at = 0
    for (;;) {
      const eol = body.indexOf('\r\n', at)
      const size = Number.parseInt(body.slice(at, eol), 16)
      assert.ok(Number.isInteger(size), `size line at ${at}: ${JSON.stringify(body.slice(at))}`)
      at = eol + 2
      if (size === 0) {
        assert.equal(body.slice(at, at + 2), '\r\n')
        return { body: out, rest: body.slice(at + 2) }
      }
      out += body.slice(at, at + size)
      assert.equal(body.slice(at + size, at + size + 2), '\r\n', 'a chunk ends with CRLF')
      at += size + 2
    }
  }

  const SHORT_BODY = ': ok\nretry: 1500\ndata: a\n\ndata: b\n\n'
  const twoResponses = (text: string) => text.split('\r\n0\r\n\r\n').length === 3

  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    for (const stream of streams) stream.close()
    await new Promise((resolve) => server.close(resolve))
  })

  it('answers with the SSE headers a browser and a proxy need', async () => {
    const sse = await openRawSse(`${url}/`)
    const h = sse.res.headers
    assert.equal(sse.res.statusCode, 200)
    assert.equal(h['content-type'], 'text/event-stream; charset=utf-8')
    assert.match(h['cache-control'] ?? '', /no-cache/)
    assert.match(h['cache-control'] ?? '', /no-transform/)
    assert.equal(h['x-accel-buffering'], 'no')
    assert.equal(h.connection, 'keep-alive')
    sse.abort()
  })

  it('flushes the opening comment and retry at once, before any event exists', async () => {
    const sse = await openRawSse(`${url}/`)
    const text = await sse.waitFor((t) => t.includes('retry: 1500\n'), 2000)
    assert.ok(text.startsWith(': ok\nretry: 1500\n'), JSON.stringify(text))
    sse.abort()
  })

  it('sends heartbeat comments from the shared timer', async () => {
    const sse = await openRawSse(`${url}/`)
    await sse.waitFor((t) => t.split(':\n').length > 3, 3000)
    sse.abort()
  })

  it('decodes a UTF-8 Last-Event-ID that Node read as latin1', async () => {
    const wire = Buffer.from('…é😀', 'utf8').toString('latin1')
    const sse = await openRawSse(`${url}/echo-id`, { 'last-event-id': wire })
    await sse.waitFor((t) => t.includes('data: …é😀\n\n'))
    sse.abort()
  })

  it('frames its chunks itself and ends the response so the connection serves the next request', async () => {
    const request = 'GET /short HTTP/1.1\r\nHost: x\r\n\r\n'
    const first = await exchange(request, (t) => t.includes('\r\n0\r\n\r\n'))
    const [head, body] = first.text.split('\r\n\r\n', 2) as [string, string]
    assert.equal(head.match(/transfer-encoding: chunked/gi)?.length, 1, head)
    assert.match(head, /connection: keep-alive/i)
    const decoded = unchunk(first.text.slice(head.length + 4))
    assert.equal(decoded.body, SHORT_BODY, body)
    // The same socket, a second request: the first response was delimited exactly.
    const second = await new Promise<string>((resolve) => {
      let text = ''
      first.socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1')
        if (text.includes('\r\n0\r\n\r\n')) resolve(text)
      })
      first.socket.write(request)
    })
    assert.match(second, /^HTTP\/1\.1 200 OK/)
    assert.equal(unchunk(second.slice(second.indexOf('\r\n\r\n') + 4)).body, SHORT_BODY)
    first.socket.destroy()
  })

  it('answers pipelined requests in order, each exactly delimited', async () => {
    const request = 'GET /short HTTP/1.1\r\nHost: x\r\n\r\n'
    const { text, socket } = await exchange(request + request, twoResponses)
    const firstBody = unchunk(text.slice(text.indexOf('\r\n\r\n') + 4))
    assert.equal(firstBody.body, SHORT_BODY)
    assert.match(firstBody.rest, /^HTTP\/1\.1 200 OK/)
    assert.equal(
      unchunk(firstBody.rest.slice(firstBody.rest.indexOf('\r\n\r\n') + 4)).body,
      SHORT_BODY,
    )
    socket.destroy()
  })

  it('sends an HTTP/1.0 client a body delimited by closing the connection, without chunks', async () => {
    const { text, socket } = await new Promise<{ text: string; socket: Socket }>((resolve) => {
      const socket = connectTcp((server.address() as AddressInfo).port, '127.0.0.1')
      let text = ''
      socket.on('data', (chunk: Buffer) => {
        text += chunk.toString('latin1')
      })
      socket.on('end', () => resolve({ text, socket }))
      socket.write('GET /short HTTP/1.0\r\n\r\n')
    })
    const [head, body] = text.split('\r\n\r\n', 2) as [string, string]
    assert.doesNotMatch(head, /transfer-encoding/i)
    assert.match(head, /connection: close/i, 'not keep-alive: the end of the body is the close')
    assert.equal(body, SHORT_BODY)
    socket.destroy()
  })

  it('closes the stream and leaves the heartbeat when the client aborts', async () => {
    const before = streams.length
    const sse = await openRawSse(`${url}/`)
    await sse.waitFor((t) => t.includes(': ok'))
    const stream = streams[before] as EventStream
    assert.equal(stream.closed, false)
    sse.abort()
    await new Promise<void>((resolve) => stream.onClose(() => resolve()))
    assert.equal(stream.closeReason, 'client-closed')
  })
})

describe('openEventStream over HTTP/2', () => {
  const tls = selfSignedCertificate()
  const hub = createSsehubServer({ tls, heartbeatMs: null, clockIntervalMs: 50 })
  let url = ''
  before(async () => {
    url = (await hub.listen(0, '127.0.0.1')).url
  })
  after(async () => {
    await hub.close()
    tls.cleanup()
  })

  it('sends no connection-specific header and streams events', async () => {
    const session = connectHttp2(url, { rejectUnauthorized: false })
    try {
      const req = session.request({ ':path': '/demo/clock/stream', accept: 'text/event-stream' })
      const headers = await new Promise<Record<string, unknown>>((resolve) =>
        req.on('response', resolve),
      )
      assert.equal(headers[':status'], 200)
      assert.equal(headers['content-type'], 'text/event-stream; charset=utf-8')
      for (const name of [
        'connection',
        'transfer-encoding',
        'keep-alive',
        'upgrade',
        'proxy-connection',
      ]) {
        assert.equal(headers[name], undefined, `${name} must not appear on HTTP/2`)
      }
      req.setEncoding('utf8')
      let text = ''
      await new Promise<void>((resolve) => {
        req.on('data', (chunk: string) => {
          text += chunk
          if (text.includes('Message #1 ')) resolve()
        })
      })
      assert.match(text, /^: ok\ndata: YOUR ID IS [0-9a-f]{5}\n\n/)
      req.close(constants.NGHTTP2_CANCEL)
    } finally {
      session.close()
    }
  })

  it('still speaks HTTP/1.1 to a client that does not negotiate HTTP/2', async () => {
    const { request } = await import('node:https')
    const status = await new Promise<number | undefined>((resolve, reject) => {
      request(`${url}/healthz`, { rejectUnauthorized: false }, (res) => {
        res.resume()
        resolve(res.statusCode)
      })
        .on('error', reject)
        .end()
    })
    assert.equal(status, 200)
  })
})

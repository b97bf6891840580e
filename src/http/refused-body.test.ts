import assert from 'node:assert/strict'
import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { readBody } from './read-body.ts'
import { closingHeaders, discardRefusedBody, type RefusedBodyOptions } from './refused-body.ts'
import { sendText } from './send-text.ts'

const LIMIT = 1024
const HEAD = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
/** Longest any client here keeps sending: the bounds under test are far below it. */
const CLIENT_MAX_MS = 10_000
const PIECE = Buffer.alloc(64 * 1024, 'x')

/** Resolves once `done()` holds, checking every 5 ms; fails after 5 s. */
async function waitFor(done: () => boolean): Promise<void> {
  for (let waited = 0; !done(); waited += 5) {
    if (waited > 5000) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
}

/** What a client that kept sending saw. */
interface Seen {
  answer: string
  /** Milliseconds from the first byte of the answer to the hub's close. */
  closedAfterMs: number
  sent: number
}

/**
 * Sends a chunked body that never ends (`pause` ms between pieces of `size` bytes), reading what
 * comes back, until the server closes the connection or {@link CLIENT_MAX_MS} passed.
 */
async function sendForever(port: number, size: number, pause: number): Promise<Seen> {
  const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
  let answer = ''
  let answeredAt = 0
  let closedAt = 0
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    if (answer === '') answeredAt = performance.now()
    answer += chunk
  })
  // The cut may reach us as a reset: that is the point of the bound, not a failure.
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      closedAt = performance.now()
      resolve()
    }),
  )
  const started = performance.now()
  let sent = 0
  socket.write(HEAD)
  const piece = PIECE.subarray(0, size)
  while (closedAt === 0 && !socket.destroyed && performance.now() - started < CLIENT_MAX_MS) {
    const more = socket.write(`${size.toString(16)}\r\n${piece.toString('latin1')}\r\n`)
    sent += size
    if (!more) await Promise.race([new Promise((resolve) => socket.once('drain', resolve)), closed])
    if (pause > 0) await new Promise((resolve) => setTimeout(resolve, pause))
  }
  socket.destroy()
  await closed
  return { answer, closedAfterMs: closedAt - answeredAt, sent }
}

describe('discardRefusedBody', () => {
  let server: Server
  let port: number
  let options: RefusedBodyOptions = {}
  before(async () => {
    server = createServer((req, res) => {
      readBody(req, LIMIT).then(
        () => sendText(res, 200, 'ok\n'),
        (error: Error) => {
          sendText(res, 413, `${error.message}\n`)
          discardRefusedBody(req, res, options)
        },
      )
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })

  it('answers a client that never stops sending, then cuts it after timeoutMs', async () => {
    options = { timeoutMs: 300 }
    const seen = await sendForever(port, 1024, 20)
    assert.match(seen.answer, /^HTTP\/1\.1 413 .*larger than 1024 bytes\.\n$/s)
    assert.ok(seen.closedAfterMs < 3000, `still open ${seen.closedAfterMs} ms after the answer`)
  })

  it('cuts a client that sends fast after maxBytes more bytes, before timeoutMs', async () => {
    options = { timeoutMs: 60_000, maxBytes: 1024 * 1024 }
    const seen = await sendForever(port, PIECE.byteLength, 0)
    assert.match(seen.answer, /^HTTP\/1\.1 413 /)
    assert.ok(seen.sent > 1024 * 1024)
    assert.ok(seen.closedAfterMs < CLIENT_MAX_MS / 2, 'the byte bound did not cut the client')
  })

  it('drops the rest of a body that ends, and serves the next request on the connection', async () => {
    options = {}
    const socket = connect({ port, host: '127.0.0.1' })
    let answers = ''
    socket.setEncoding('latin1').on('data', (chunk: string) => (answers += chunk))
    const big = 'x'.repeat(4 * LIMIT)
    socket.write(`${HEAD}${big.length.toString(16)}\r\n${big}\r\n`)
    await waitFor(() => answers.includes('larger than'))
    // Answered while the body is unfinished; the rest still goes, then a request that fits.
    socket.write(`${(4 * LIMIT).toString(16)}\r\n${big}\r\n0\r\n\r\n`)
    socket.write(`${HEAD}2\r\nok\r\n0\r\n\r\n`)
    await waitFor(() => answers.includes('ok\n') || socket.readableEnded)
    assert.match(answers, /^HTTP\/1\.1 413 .*HTTP\/1\.1 200 .*ok\n$/s)
    socket.destroy()
  })

  it('leaves the connection open when the whole body had already arrived', async () => {
    const keepAlive = createServer((req, res) => {
      req.resume().on('end', () => {
        sendText(res, 413, 'too large\n')
        discardRefusedBody(req, res)
      })
    })
    keepAlive.listen(0, '127.0.0.1')
    await once(keepAlive, 'listening')
    const socket = connect({ port: (keepAlive.address() as AddressInfo).port, host: '127.0.0.1' })
    let answers = ''
    socket.setEncoding('latin1').on('data', (chunk: string) => (answers += chunk))
    const request = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n\r\nx'
    for (let i = 1; i <= 2; i++) {
      socket.write(request)
      await waitFor(() => answers.split('too large').length > i || socket.readableEnded)
    }
    assert.equal(answers.split('HTTP/1.1 413 ').length, 3, answers)
    assert.equal(socket.readableEnded, false)
    socket.destroy()
    keepAlive.closeAllConnections()
    keepAlive.close()
  })
})

describe('discardRefusedBody with close: true', () => {
  let server: Server
  let port: number
  let options: RefusedBodyOptions = {}
  before(async () => {
    // Refuses every request before reading its body, as the hub refuses a publish without a token.
    server = createServer((req, res) => {
      sendText(res, 401, 'no token\n', closingHeaders(req))
      discardRefusedBody(req, res, { ...options, close: true })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    port = (server.address() as AddressInfo).port
  })
  after(() => {
    server.closeAllConnections()
    server.close()
  })

  it('answers with Connection: close and cuts a client that never stops sending at timeoutMs', async () => {
    options = { timeoutMs: 300 }
    const seen = await sendForever(port, 1024, 20)
    assert.match(seen.answer, /^HTTP\/1\.1 401 .*connection: close\r\n.*no token\n$/is)
    assert.ok(seen.closedAfterMs < 3000, `still open ${seen.closedAfterMs} ms after the answer`)
  })

  it('sends its FIN with the answer, drops the rest of the body, and closes once it has ended', async () => {
    options = {}
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true })
    let answer = ''
    let finAt = 0
    let reset = false
    socket.setEncoding('latin1').on('data', (chunk: string) => (answer += chunk))
    socket.on('end', () => (finAt = performance.now()))
    socket.on('error', () => (reset = true))
    const closed = once(socket, 'close')
    const body = 'x'.repeat(256 * 1024)
    socket.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${2 * body.length}\r\n\r\n${body}`)
    await waitFor(() => finAt !== 0)
    assert.match(answer, /^HTTP\/1\.1 401 .*no token\n$/s)
    // The hub said it is done, and still takes the rest of the body rather than resetting it.
    socket.end(body)
    await closed
    assert.equal(reset, false, 'the connection was reset')
  })
})

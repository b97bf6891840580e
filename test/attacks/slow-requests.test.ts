import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect as connectHttp2 } from 'node:http2'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { connect as connectTls } from 'node:tls'
import { startTestHub, type TestHub } from '../helpers/hub-server.ts'
import { eventually, openRawSse, sleep } from '../helpers/raw-sse.ts'
import { selfSignedCertificate } from '../helpers/tls.ts'

/** A raw TCP client of the hub: what it received, and when the server closed it. */
interface RawClient {
  readonly socket: Socket
  text(): string
  /** Milliseconds from connect to the server's close, or `null` while open. */
  closedAfter(): number | null
}

async function rawClient(port: number): Promise<RawClient> {
  const socket = connect({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  await once(socket, 'connect')
  const start = performance.now()
  let text = ''
  let closedAt: number | null = null
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
  socket.on('close', () => (closedAt = performance.now() - start))
  return { socket, text: () => text, closedAfter: () => closedAt }
}

/**
 * Writes `piece` every `everyMs` until the server closes the connection or `maxWrites` were sent
 * (the bound); resolves with how many were written.
 */
async function dribble(
  client: RawClient,
  piece: string,
  everyMs: number,
  maxWrites: number,
): Promise<number> {
  let writes = 0
  while (writes < maxWrites && client.closedAfter() === null && !client.socket.destroyed) {
    client.socket.write(piece)
    writes++
    await sleep(everyMs)
  }
  return writes
}

describe('slow requests over HTTP/1.1', () => {
  let hub: TestHub
  let port: number
  const clients: RawClient[] = []
  before(async () => {
    hub = await startTestHub({}, { headersTimeoutMs: 500, requestTimeoutMs: 1000 })
    port = Number(new URL(hub.base).port)
  })
  after(async () => {
    for (const client of clients) client.socket.destroy()
    await hub.close()
  })

  it('cuts a client dribbling its headers at the headers timeout, with a 408', async () => {
    const client = await rawClient(port)
    clients.push(client)
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n')
    // Bounded: 40 headers, one per 100 ms, 4 s at most.
    const writes = await dribble(client, 'X-Slow: 1\r\n', 100, 40)
    const closedAfter = client.closedAfter()
    assert.ok(closedAfter !== null && closedAfter < 2500, `closed after ${closedAfter} ms`)
    assert.ok(writes < 40, `${writes} headers were sent before the cut`)
    assert.match(client.text(), /^HTTP\/1\.1 408 /)
  })

  it('cuts a connection that sends nothing at the headers timeout', async () => {
    const client = await rawClient(port)
    clients.push(client)
    await eventually(() => client.closedAfter() !== null, 'the server closed it', 4000)
    assert.ok((client.closedAfter() as number) < 2500, `closed after ${client.closedAfter()} ms`)
  })

  it('answers 408 to a publish whose body is dribbled, and closes the connection', async () => {
    const token = await hub.token({ publish: ['*'] })
    const client = await rawClient(port)
    clients.push(client)
    client.socket.write(
      `POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\ntopic=urn%3Aslow&data=`,
    )
    // Bounded: 50 writes of 5 bytes, one per 100 ms, 5 s at most.
    await dribble(client, 'aaaaa', 100, 50)
    const closedAfter = client.closedAfter()
    assert.ok(closedAfter !== null && closedAfter < 4000, `closed after ${closedAfter} ms`)
    assert.match(client.text(), /^HTTP\/1\.1 408 /)
  })

  it('never cuts a subscription: its request is whole once its headers are in', async () => {
    const sse = await openRawSse(`${hub.hubUrl}?topic=urn%3Along`)
    assert.equal(sse.res.statusCode, 200)
    await sleep(2200)
    const id = await hub.publishOk({ topic: 'urn:long', data: 'after the timeouts' })
    await sse.waitFor((text) => text.includes(`id: ${id}`))
    sse.abort()
  })
})

describe('slow and idle connections over HTTPS (HTTP/2 and HTTP/1.1)', () => {
  const tls = selfSignedCertificate()
  let hub: TestHub
  let port: number
  before(async () => {
    hub = await startTestHub(
      {},
      { tls, headersTimeoutMs: 500, requestTimeoutMs: 1000, keepAliveTimeoutMs: 500 },
    )
    port = Number(new URL(hub.base).port)
  })
  after(async () => {
    await hub.close()
    tls.cleanup()
  })

  it('closes an HTTP/2 connection that opens no stream at the headers timeout', async () => {
    const session = connectHttp2(hub.base, { rejectUnauthorized: false })
    session.on('error', () => {})
    const start = performance.now()
    await once(session, 'connect')
    await Promise.race([once(session, 'close'), sleep(4000)])
    const after = performance.now() - start
    assert.ok(session.closed || session.destroyed, 'closed')
    assert.ok(after < 2500, `closed after ${after} ms`)
  })

  it('closes an HTTP/2 connection idle past the keep-alive timeout, not one with a subscription', async () => {
    const session = connectHttp2(hub.base, { rejectUnauthorized: false })
    session.on('error', () => {})
    const get = session.request({ ':path': '/healthz' })
    get.resume()
    await once(get, 'end')
    const sse = session.request({ ':path': '/.well-known/mercure?topic=urn%3Ah2idle' })
    sse.setEncoding('utf8')
    let text = ''
    sse.on('data', (chunk: string) => (text += chunk))
    await once(sse, 'response')
    await sleep(1500)
    assert.equal(session.closed, false, 'a session with an open subscription is not idle')
    const mercure = hub.server.mercure?.hub
    assert.ok(mercure)
    await mercure.publish({ id: 'urn:h2idle:1', topics: ['urn:h2idle'], data: 'x', private: false })
    await eventually(() => text.includes('id: urn:h2idle:1'), 'the update arrived')
    sse.close()
    await Promise.race([once(session, 'close'), sleep(4000)])
    assert.ok(session.closed || session.destroyed, 'closed once idle')
  })

  it('answers 408 to an HTTP/2 publish whose body is dribbled, and resets the stream', async () => {
    const token = await hub.token({ publish: ['*'] })
    const session = connectHttp2(hub.base, { rejectUnauthorized: false })
    session.on('error', () => {})
    const post = session.request({
      ':method': 'POST',
      ':path': '/.well-known/mercure',
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Bearer ${token}`,
    })
    post.on('error', () => {})
    post.write('topic=urn%3Aslow&data=')
    let status: unknown = null
    post.on('response', (headers) => (status = headers[':status']))
    post.resume()
    const start = performance.now()
    // Bounded: 50 writes, one per 100 ms, 5 s at most.
    for (let n = 0; n < 50 && !post.closed && !post.destroyed; n++) {
      post.write('aaaaa')
      await sleep(100)
    }
    const after = performance.now() - start
    assert.equal(status, 408)
    assert.ok(after < 4000, `cut after ${after} ms`)
    session.close()
  })

  it('closes an HTTP/1.1-over-TLS keep-alive connection idle past the keep-alive timeout', async () => {
    const socket = connectTls({
      port,
      host: '127.0.0.1',
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: false,
    })
    socket.on('error', () => {})
    await once(socket, 'secureConnect')
    let text = ''
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
    socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await eventually(() => text.includes('ok\n'), 'the answer')
    const start = performance.now()
    await Promise.race([once(socket, 'close'), sleep(4000)])
    const after = performance.now() - start
    assert.ok(socket.destroyed, 'closed')
    assert.ok(after < 2500, `closed after ${after} ms`)
  })
})

describe('a flood of connections past --max-connections', () => {
  let hub: TestHub
  let port: number
  const clients: RawClient[] = []
  before(async () => {
    hub = await startTestHub({}, { maxConnections: 5 })
    port = Number(new URL(hub.base).port)
  })
  after(async () => {
    for (const client of clients) client.socket.destroy()
    await hub.close()
  })

  /** Sends GET /healthz on a keep-alive connection; resolves once its answer is in. */
  const health = async (client: RawClient): Promise<void> => {
    const before = client.text().length
    client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    await eventually(() => client.text().slice(before).includes('ok\n'), 'the health answer', 3000)
  }

  it('closes the connections beyond the cap at accept while the open ones keep working', async () => {
    const open = await Promise.all(Array.from({ length: 5 }, () => rawClient(port)))
    clients.push(...open)
    for (const client of open) await health(client)
    const extra = await Promise.all(Array.from({ length: 3 }, () => rawClient(port)))
    clients.push(...extra)
    for (const client of extra) {
      client.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n')
    }
    await eventually(
      () => extra.every((client) => client.closedAfter() !== null),
      'the connections beyond the cap closed',
      3000,
    )
    for (const client of extra) assert.equal(client.text(), '', 'no answer beyond the cap')
    for (const client of open) await health(client)

    // A freed place takes a new connection.
    open[0]?.socket.destroy()
    await sleep(100)
    const next = await rawClient(port)
    clients.push(next)
    await health(next)
  })
})

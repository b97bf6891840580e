import { once } from 'node:events'
import { createConnection, createServer, type Socket } from 'node:net'

/** One HTTP request that went through a {@link TcpGate}, as the gate saw it on the wire. */
export interface GateRequest {
  /** The request target: path and query, as sent. */
  readonly target: string
  /** Its `Last-Event-ID` header, if it had one. */
  readonly lastEventIdHeader: string | undefined
  /** When the gate read its head: `performance.now()`. */
  readonly at: number
  /** Whether the gate was closed: it reset the connection instead of relaying the request. */
  readonly refused: boolean
  /** The status of the answer, once its head came back; `undefined` until then (or ever). */
  status: number | undefined
}

/**
 * A TCP relay in front of a server, that can refuse requests for a while: a downtime whose end
 * the test chooses, so that what happens before clients reconnect is certain rather than likely.
 * It relays bytes unchanged and reads the heads going by, so a test knows which client tried
 * during the downtime and which reached the server again (its request and the answer's status),
 * whatever the client exposes.
 */
export interface TcpGate {
  /** `127.0.0.1:<port>` */
  readonly host: string
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  /** Every request it read so far, relayed or refused, in order. */
  readonly requests: readonly GateRequest[]
  /**
   * Refuses new requests: it reads each one's head (to record it) and resets the connection, so
   * the client sees a network error, as from a server that is down. Relayed connections stay.
   */
  close(): void
  /** Relays new connections again. */
  open(): void
  /** Stops listening and destroys every connection. */
  stop(): Promise<void>
}

/** Starts a gate on a free loopback port that relays to `127.0.0.1:targetPort`. */
export async function startTcpGate(targetPort: number): Promise<TcpGate> {
  const requests: GateRequest[] = []
  const sockets = new Set<Socket>()

  let refusing = false

  /** Records each request head `socket` sends, and calls `onHead` with it. */
  const readHeads = (
    socket: Socket,
    refused: boolean,
    onHead: (request: GateRequest) => void,
  ): void => {
    let head = ''
    socket.on('data', (chunk: Buffer) => {
      head += chunk.toString('latin1')
      for (let end = head.indexOf('\r\n\r\n'); end !== -1; end = head.indexOf('\r\n\r\n')) {
        const [requestLine = '', ...fields] = head.slice(0, end).split('\r\n')
        head = head.slice(end + 4)
        const header = fields.find((field) => /^last-event-id:/i.test(field))
        const request: GateRequest = {
          target: requestLine.split(' ')[1] ?? '',
          lastEventIdHeader: header?.slice(header.indexOf(':') + 1).trim(),
          at: performance.now(),
          refused,
          status: undefined,
        }
        requests.push(request)
        onHead(request)
      }
    })
  }

  const refuse = (client: Socket): void => {
    sockets.add(client)
    client.on('error', () => {})
    client.on('close', () => sockets.delete(client))
    readHeads(client, true, () => {
      if (!client.destroyed) client.resetAndDestroy()
    })
  }

  const relay = (client: Socket): void => {
    if (refusing) {
      refuse(client)
      return
    }
    const upstream = createConnection({ host: '127.0.0.1', port: targetPort })
    sockets.add(client)
    sockets.add(upstream)
    // Requests waiting for their answer's head, oldest first (keep-alive reuses connections).
    const waiting: GateRequest[] = []
    readHeads(client, false, (request) => waiting.push(request))
    upstream.on('data', (chunk: Buffer) => {
      // An answer's head comes in one write (the hub sends its head and the stream's opening
      // together); a body chunk never starts with a status line.
      const text = chunk.toString('latin1', 0, 12)
      if (text.startsWith('HTTP/1.1 ')) {
        const request = waiting.shift()
        if (request !== undefined) request.status = Number(text.slice(9, 12))
      }
    })
    client.pipe(upstream)
    upstream.pipe(client)
    const drop = (): void => {
      client.destroy()
      upstream.destroy()
      sockets.delete(client)
      sockets.delete(upstream)
    }
    client.on('error', drop)
    upstream.on('error', drop)
    client.on('close', () => {
      sockets.delete(client)
      // The client hung up: let the server see it, as it would without the gate.
      if (!upstream.destroyed) upstream.end()
    })
    upstream.on('close', () => {
      sockets.delete(upstream)
      if (!client.destroyed) client.end()
    })
  }

  const server = createServer(relay)
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  return {
    host: `127.0.0.1:${port}`,
    base: `http://127.0.0.1:${port}`,
    requests,
    close() {
      refusing = true
    },
    open() {
      refusing = false
    },
    async stop() {
      server.close()
      for (const socket of sockets) socket.destroy()
      sockets.clear()
    },
  }
}

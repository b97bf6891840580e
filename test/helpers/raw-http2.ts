import { once } from 'node:events'
import { connect, type TLSSocket } from 'node:tls'

/** HTTP/2 frame types (RFC 9113 §6) this client reads or writes. */
const HEADERS = 0x1
const RST_STREAM = 0x3
const SETTINGS = 0x4
const GOAWAY = 0x7
const END_STREAM = 0x1
const END_HEADERS = 0x4
const ACK = 0x1

/** What the server did with one stream this client opened. */
export interface RawStreamOutcome {
  /** The server sent response headers. */
  responded: boolean
  /** The RST_STREAM error code the server reset it with, if it did (7 is REFUSED_STREAM). */
  resetCode: number | null
}

/**
 * An HTTP/2 client over TLS that writes frames itself, so it can do what Node's client never
 * does: open streams past the server's `SETTINGS_MAX_CONCURRENT_STREAMS` (an attacker's client).
 */
export interface RawHttp2Client {
  /** Sends a GET for `path` as one HEADERS frame with END_STREAM; returns the stream id. */
  get(path: string): number
  /** What happened to each stream so far, by id. */
  readonly streams: ReadonlyMap<number, RawStreamOutcome>
  /** The GOAWAY error code the server sent, if it did. */
  readonly goAwayCode: number | null
  /** Whether the connection is closed. */
  readonly closed: boolean
  close(): void
}

/**
 * Connects to `port` on 127.0.0.1 with ALPN `h2` and sends the preface and an empty SETTINGS.
 * `acknowledgeSettings`: whether to ACK the server's SETTINGS (a client that did, then exceeds
 * the limit, commits a connection error; one that did not yet gets its excess streams refused).
 */
export async function connectRawHttp2(
  port: number,
  acknowledgeSettings: boolean,
): Promise<RawHttp2Client> {
  const socket: TLSSocket = connect({
    port,
    host: '127.0.0.1',
    ALPNProtocols: ['h2'],
    rejectUnauthorized: false,
  })
  await once(socket, 'secureConnect')
  if (socket.alpnProtocol !== 'h2') throw new Error(`ALPN chose ${socket.alpnProtocol}, not h2`)
  socket.on('error', () => {})
  socket.write('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')
  socket.write(frame(SETTINGS, 0, 0, Buffer.alloc(0)))
  const streams = new Map<number, RawStreamOutcome>()
  let goAwayCode: number | null = null
  let closed = false
  let nextId = 1
  let pending = Buffer.alloc(0)
  socket.on('close', () => {
    closed = true
  })
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk])
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3)
      if (pending.length < 9 + length) break
      const type = pending[3] as number
      const flags = pending[4] as number
      const id = pending.readUInt32BE(5) & 0x7fffffff
      const payload = pending.subarray(9, 9 + length)
      pending = pending.subarray(9 + length)
      const stream = streams.get(id)
      if (type === HEADERS && stream) stream.responded = true
      else if (type === RST_STREAM && stream) stream.resetCode = payload.readUInt32BE(0)
      else if (type === GOAWAY) goAwayCode = payload.readUInt32BE(4)
      else if (type === SETTINGS && (flags & ACK) === 0 && acknowledgeSettings) {
        socket.write(frame(SETTINGS, ACK, 0, Buffer.alloc(0)))
      }
    }
  })
  const authority = `127.0.0.1:${port}`
  return {
    get(path) {
      const id = nextId
      nextId += 2
      // HPACK (RFC 7541): :method GET and :scheme https from the static table (indexes 2 and 7),
      // :path and :authority as literals without indexing, names from the table (4 and 1).
      const block = Buffer.concat([
        Buffer.from([0x82, 0x87, 0x04]),
        literal(path),
        Buffer.from([0x01]),
        literal(authority),
      ])
      streams.set(id, { responded: false, resetCode: null })
      socket.write(frame(HEADERS, END_HEADERS | END_STREAM, id, block))
      return id
    },
    streams,
    get goAwayCode() {
      return goAwayCode
    },
    get closed() {
      return closed
    },
    close: () => socket.destroy(),
  }
}

function frame(type: number, flags: number, id: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(9)
  head.writeUIntBE(payload.length, 0, 3)
  head[3] = type
  head[4] = flags
  head.writeUInt32BE(id, 5)
  return Buffer.concat([head, payload])
}

/** An HPACK string literal, not Huffman-coded, of fewer than 127 bytes. */
function literal(text: string): Buffer {
  const bytes = Buffer.from(text)
  if (bytes.length >= 127) throw new Error('literal too long for this test client')
  return Buffer.concat([Buffer.from([bytes.length]), bytes])
}

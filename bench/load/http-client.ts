// A keep-alive HTTP/1.1 client on one raw socket, one request in flight: the publishers' side of
// the load generator. It parses only the status line and the body length, which is all a
// publisher needs to know that an update was accepted (and, for catch-up, its id).

import { connect, type Socket } from 'node:net'

/** A response: its status (0 when the connection failed) and its body as text. */
export interface HttpResult {
  status: number
  body: string
}

const CRLFCRLF = Buffer.from('\r\n\r\n')
const CONTENT_LENGTH = /^content-length:[ \t]*(\d+)/im
const CHUNKED = /^transfer-encoding:[ \t]*chunked/im
const CLOSE = /^connection:[ \t]*close/im

/** One keep-alive connection; reconnects when the server closed it between requests. */
export class HttpConnection {
  readonly #host: string
  readonly #port: number
  #socket: Socket | null = null
  #buffer: Buffer | null = null
  #pending: ((result: HttpResult) => void) | null = null
  #closeAfter = false

  constructor(host: string, port: number) {
    this.#host = host
    this.#port = port
  }

  /** Sends one complete request; resolves with the response (status 0 on a network error). */
  send(request: Buffer): Promise<HttpResult> {
    if (this.#pending !== null) throw new Error('one request at a time on an HttpConnection')
    const socket = this.#socket ?? this.#open()
    return new Promise((resolve) => {
      this.#pending = resolve
      socket.write(request)
    })
  }

  /** Closes the connection. */
  close(): void {
    this.#socket?.destroy()
    this.#socket = null
  }

  #open(): Socket {
    const socket = connect({ host: this.#host, port: this.#port, noDelay: true })
    this.#socket = socket
    this.#buffer = null
    socket.on('data', (chunk: Buffer) => this.#onData(chunk))
    const gone = (): void => {
      if (this.#socket === socket) this.#socket = null
      this.#finish({ status: 0, body: '' })
    }
    socket.on('error', gone)
    socket.on('close', gone)
    return socket
  }

  #finish(result: HttpResult): void {
    const pending = this.#pending
    this.#pending = null
    this.#buffer = null
    if (this.#closeAfter) {
      this.#closeAfter = false
      this.close()
    }
    pending?.(result)
  }

  #onData(chunk: Buffer): void {
    const buf = this.#buffer === null ? chunk : Buffer.concat([this.#buffer, chunk])
    this.#buffer = buf
    const end = buf.indexOf(CRLFCRLF)
    if (end === -1) return
    const head = buf.toString('latin1', 0, end)
    const status = Number(head.slice(9, 12))
    this.#closeAfter = CLOSE.test(head)
    const bodyStart = end + 4
    const length = CONTENT_LENGTH.exec(head)
    if (length) {
      const bodyEnd = bodyStart + Number(length[1])
      if (buf.length < bodyEnd) return
      this.#finish({ status, body: buf.toString('utf8', bodyStart, bodyEnd) })
    } else if (CHUNKED.test(head)) {
      const body = dechunk(buf, bodyStart)
      if (body !== null) this.#finish({ status, body })
    } else {
      // No length: the body runs to the end of the connection; publishers never see this.
      this.#closeAfter = true
      this.#finish({ status, body: buf.toString('utf8', bodyStart) })
    }
  }
}

/** The body of a complete chunked message starting at `start`, or `null` if more is needed. */
function dechunk(buf: Buffer, start: number): string | null {
  let i = start
  let body = ''
  for (;;) {
    const lineEnd = buf.indexOf('\r\n', i)
    if (lineEnd === -1) return null
    const size = Number.parseInt(buf.toString('latin1', i, lineEnd), 16)
    if (size === 0) return buf.indexOf('\r\n', lineEnd + 2) === -1 ? null : body
    if (buf.length < lineEnd + 2 + size + 2) return null
    body += buf.toString('utf8', lineEnd + 2, lineEnd + 2 + size)
    i = lineEnd + 2 + size + 2
  }
}

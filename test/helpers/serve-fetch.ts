import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'

/** A fetch handler, as `ssehub/web` makes one. */
export type FetchHandler = (
  request: Request,
  info: { clientAddress?: string | undefined },
) => Promise<Response>

/** A fetch handler served on a loopback port. */
export interface ServedFetch {
  readonly server: Server
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  close(): Promise<void>
}

/**
 * Serves `handler` on `127.0.0.1`, port 0, through the smallest honest Node adapter: what
 * `@hono/node-server` does, and no more. The request's `signal` aborts when the connection closes;
 * the response body is written as the socket takes it (a `write()` that answers `false` waits for
 * `'drain'` before the next read), so a client that stops reading stops the body being read; an
 * errored body destroys the connection, also while a drain is awaited; a closed connection
 * cancels the body.
 */
export async function serveFetch(handler: FetchHandler): Promise<ServedFetch> {
  const server = createServer((req, res) => {
    respond(handler, req, res).catch(() => res.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    server,
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}

async function respond(
  handler: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const aborter = new AbortController()
  res.on('close', () => aborter.abort())
  const headers = new Headers()
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string)
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD'
  const request = new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, {
    method: req.method ?? 'GET',
    headers,
    signal: aborter.signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit)
  const response = await handler(request, { clientAddress: req.socket.remoteAddress })
  res.statusCode = response.status
  for (const [name, value] of response.headers) res.setHeader(name, value)
  if (response.body === null) {
    res.end()
    return
  }
  const reader = response.body.getReader()
  res.on('close', () => {
    reader.cancel().catch(() => {})
  })
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (!res.write(value)) {
        // Waiting for the socket, the body is not read: a body that errors meanwhile (the hub
        // cut a client that stopped reading) is seen through `closed`, and the connection goes.
        await Promise.race([
          new Promise<void>((resolve) => {
            const go = (): void => {
              res.off('drain', go)
              res.off('close', go)
              resolve()
            }
            res.on('drain', go)
            res.on('close', go)
          }),
          reader.closed,
        ])
      }
      if (res.destroyed) return
    }
    res.end()
  } catch {
    res.destroy()
  }
}

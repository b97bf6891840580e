import type { Server as HttpServer } from 'node:http'
import type { Http2SecureServer, Http2Session } from 'node:http2'
import type { EventStream } from '../index.ts'

/** What {@link shutDown} closes. */
export interface ShutdownParts {
  /** The main server. */
  readonly server: HttpServer | Http2SecureServer
  /** Whether it is the HTTPS (HTTP/2) one. */
  readonly isTls: boolean
  /** Every open event stream: each ends cleanly, and clients reconnect elsewhere with their id. */
  readonly streams: Iterable<EventStream>
  /** The open HTTP/2 sessions. */
  readonly sessions: ReadonlySet<Http2Session>
  /** The metrics listener, if any. */
  readonly operationsServer: HttpServer | null
  /** Milliseconds connections get to finish before they are cut. */
  readonly graceMs: number
  /** What else to wait for (the hub's close). */
  readonly also?: Promise<unknown> | undefined
}

/**
 * Graceful shutdown: stops accepting, ends every stream cleanly, closes idle connections, and
 * after `graceMs` cuts those left. Resolves when the port is free.
 */
export async function shutDown(parts: ShutdownParts): Promise<void> {
  const { server, isTls, sessions, operationsServer } = parts
  const operationsClosed = new Promise<unknown>((resolve) => {
    if (operationsServer?.listening) operationsServer.close(resolve)
    else resolve(undefined)
  })
  // Scrapes and probes are short requests: nothing is worth waiting for.
  operationsServer?.closeAllConnections()
  const closed = new Promise<void>((resolve) => {
    server.close(() => resolve())
  })
  for (const stream of [...parts.streams]) stream.close('server-closed')
  for (const session of sessions) session.close()
  if (!isTls) (server as HttpServer).closeIdleConnections()
  let gaveUp = (): void => {}
  const cut = new Promise<void>((resolve) => {
    gaveUp = resolve
  })
  const grace = setTimeout(() => {
    if (!isTls) (server as HttpServer).closeAllConnections()
    for (const session of sessions) session.destroy()
    // Node 24 can leave a destroyed HTTP/2 session without its 'close' event (a client that
    // reset a stream after another request on its session), and `server.close()` then waits
    // for it forever although its socket is gone: stop waiting a second later.
    setTimeout(gaveUp, 1000).unref()
  }, parts.graceMs)
  grace.unref()
  await Promise.all([Promise.race([closed, cut]), operationsClosed, parts.also])
  clearTimeout(grace)
}

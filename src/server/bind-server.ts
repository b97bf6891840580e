import type { Server as HttpServer } from 'node:http'
import type { Http2SecureServer } from 'node:http2'
import type { AddressInfo } from 'node:net'

/** Where a server listens. */
export interface ListenAddress {
  port: number
  host: string
  /** A base URL, such as `http://127.0.0.1:3000`. */
  url: string
}

/**
 * Starts `server` listening on `host:port` (port `0` picks a free one); resolves with the bound
 * address and its base URL, rejects with the listen error (`EADDRINUSE`, `EACCES`).
 */
export function bindServer(
  server: HttpServer | Http2SecureServer,
  port: number,
  host: string,
  scheme: 'http' | 'https',
): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => reject(error)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      const address = server.address() as AddressInfo
      const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address
      resolve({
        port: address.port,
        host: address.address,
        url: `${scheme}://${shown}:${address.port}`,
      })
    })
  })
}

import { createServer, type Server } from 'node:http'
import { type NodeRequest, type NodeResponse, sendText } from '../node/index.ts'
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './defaults.ts'
import type { Metrics } from './metrics.ts'
import { secretToken } from './secret-token.ts'

/** Options for {@link createOperationsHandler}. */
export interface OperationsOptions {
  /** The metrics `/metrics` serves, or `null` for no `/metrics`. */
  metrics: Metrics | null
  /** Whether this handler serves `/metrics` (not on the main port when a metrics listener has it). */
  serveMetrics: boolean
  /** The token `/metrics` requires as `Authorization: Bearer`, or `null` for none. */
  metricsToken: string | null
  /** Whether the server can serve its purpose now: the store takes writes, no shutdown begun. */
  ready: () => Promise<boolean>
}

const ALLOWED = { allow: 'GET, HEAD' }

/**
 * Handles `/healthz`, `/readyz` and `/metrics`: GET or HEAD only (else `405` with `Allow`), and
 * `/metrics` behind its token when there is one. Resolves `false` for any other path.
 */
export function createOperationsHandler(
  options: OperationsOptions,
): (req: NodeRequest, res: NodeResponse, path: string) => Promise<boolean> {
  const { metrics } = options
  const expected = options.metricsToken === null ? null : secretToken(options.metricsToken)
  const serveMetrics = options.serveMetrics && metrics !== null

  return async (req, res, path) => {
    if (path !== '/healthz' && path !== '/readyz' && (path !== '/metrics' || !serveMetrics)) {
      return false
    }
    const method = req.method ?? 'GET'
    if (method !== 'GET' && method !== 'HEAD') {
      sendText(res, 405, `${method} is not allowed on ${path}: use GET or HEAD.\n`, ALLOWED)
      return true
    }
    if (path === '/healthz') {
      sendText(res, 200, 'ok\n')
      return true
    }
    if (path === '/readyz') {
      const ready = await options.ready().catch(() => false)
      sendText(
        res,
        ready ? 200 : 503,
        ready ? 'ready\n' : 'not ready: the store cannot take writes, or the server is stopping\n',
      )
      return true
    }
    if (expected !== null && !expected.matchesBearer(req.headers.authorization)) {
      sendText(res, 401, 'The metrics need a token: send it as Authorization: Bearer.\n', {
        'www-authenticate': 'Bearer realm="ssehub metrics"',
      })
      return true
    }
    const registry = (metrics as Metrics).registry
    const headers = { 'content-type': registry.contentType, 'cache-control': 'no-store' }
    if (method === 'HEAD') {
      res.writeHead(200, headers)
      res.end()
      return true
    }
    const body = await registry.metrics()
    res.writeHead(200, headers)
    res.end(body)
    return true
  }
}

/**
 * A plain HTTP/1.1 server for the operations endpoints alone, on their own address (so the main
 * port need not expose `/metrics`): anything else is `404`.
 */
export function createOperationsServer(
  handle: (req: NodeRequest, res: NodeResponse, path: string) => Promise<boolean>,
  maxHeaderBytes: number,
  onError: (error: unknown) => void,
): Server {
  const server = createServer({ maxHeaderSize: maxHeaderBytes }, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0] as string
    handle(req, res, path)
      .then((handled) => {
        if (!handled) sendText(res, 404, `Nothing here: ${path}. Try /metrics.\n`)
      })
      .catch((error: unknown) => {
        onError(error)
        if (!res.headersSent) sendText(res, 500, 'Internal error.\n')
        else res.destroy()
      })
  })
  // Scrapes and probes are small, quick requests: a client that dribbles its headers (slowloris)
  // is cut as on the main port.
  server.headersTimeout = DEFAULT_HEADERS_TIMEOUT_MS
  server.requestTimeout = DEFAULT_REQUEST_TIMEOUT_MS
  server.keepAliveTimeout = DEFAULT_KEEP_ALIVE_TIMEOUT_MS
  return server
}

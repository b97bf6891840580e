import { DEFAULT_CLIENT_ERROR_INTERVAL_MS } from './defaults.ts'
import type { Logger } from './logger.ts'

/**
 * What went wrong on a client's side, as the periodic log line counts it:
 *
 * - `aborted`: the client went away in the middle of its request (an upload cut short);
 * - `reset`: the connection or HTTP/2 stream was reset, or a write to it failed;
 * - `timeout`: the request's headers or body did not arrive in time (408);
 * - `malformed`: the request could not be parsed (400);
 * - `oversize`: headers too large (431);
 * - `tls`: the TLS handshake failed;
 * - `refused`: a connection over `--max-connections`, closed at accept;
 * - `stalled`, `overflow`: a stream cut because its client stopped reading (see `EventStream`).
 */
export type ClientErrorKind =
  | 'aborted'
  | 'reset'
  | 'timeout'
  | 'malformed'
  | 'oversize'
  | 'tls'
  | 'refused'
  | 'stalled'
  | 'overflow'

/** Options for {@link createClientErrorLog}. */
export interface ClientErrorLogOptions {
  /** Where the line goes (at `info`). */
  logger: Logger
  /** Milliseconds over which errors are counted into one line. Defaults to `10000`. */
  intervalMs?: number
}

/** Counts client errors and logs them as one line per interval (see {@link createClientErrorLog}). */
export interface ClientErrorLog {
  /** Counts one error of `kind`. */
  count(kind: ClientErrorKind): void
  /** Logs what was counted so far, if anything, and starts a new interval. */
  flush(): void
}

/** Error codes of a connection or stream that the peer reset or closed under us. */
const RESET_CODES = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_STREAM_DESTROYED',
  'ERR_HTTP2_STREAM_ERROR',
  'ERR_HTTP2_STREAM_CANCEL',
  'ERR_HTTP2_INVALID_STREAM',
  'ERR_HTTP2_INVALID_SESSION',
  'ERR_HTTP2_SESSION_ERROR',
  'ERR_HTTP2_GOAWAY_SESSION',
])

/**
 * The kind of an error a client caused (it aborted, reset, sent garbage or took too long), or
 * `null` for anything else: the hub's own failures, which deserve a line (and a stack) each.
 */
export function classifyClientError(error: unknown): ClientErrorKind | null {
  if (typeof error !== 'object' || error === null) return null
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return null
  // Node's IncomingMessage and Http2ServerRequest fail an unfinished body with the first; the
  // HTTP/1 parser reports the connection's end in the middle of a request with the second.
  if (code === 'ECONNRESET' && (error as Error).message === 'aborted') return 'aborted'
  if (code === 'HPE_INVALID_EOF_STATE') return 'aborted'
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT' || code === 'ETIMEDOUT') return 'timeout'
  if (code === 'HPE_HEADER_OVERFLOW' || code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 'oversize'
  if (code.startsWith('HPE_')) return 'malformed'
  if (code.startsWith('ERR_SSL_') || code === 'ERR_TLS_HANDSHAKE_TIMEOUT') return 'tls'
  if (RESET_CODES.has(code)) return 'reset'
  return null
}

/**
 * One `info` line per interval, with counts, for errors that clients cause: under attack (or on
 * a flaky network) thousands of aborted uploads or resets a second must not become thousands of
 * stack traces a second (log volume is a denial of service of its own: disk, shipping, the
 * operator's attention). The first error of a quiet period starts an interval; at its end one
 * line says what happened in it, e.g. "client errors in the last 10 s: aborted 532, reset 12".
 */
export function createClientErrorLog(options: ClientErrorLogOptions): ClientErrorLog {
  const { logger } = options
  const intervalMs = options.intervalMs ?? DEFAULT_CLIENT_ERROR_INTERVAL_MS
  let counts = new Map<ClientErrorKind, number>()
  let since = 0
  let timer: ReturnType<typeof setTimeout> | null = null

  const flush = (): void => {
    if (timer !== null) clearTimeout(timer)
    timer = null
    if (counts.size === 0) return
    const seconds = Math.round((performance.now() - since) / 100) / 10
    const listed = [...counts].map(([kind, n]) => `${kind} ${n}`).join(', ')
    logger.info(
      { clientErrors: Object.fromEntries(counts), seconds },
      `client errors in the last ${seconds} s: ${listed}`,
    )
    counts = new Map()
  }

  return {
    count(kind) {
      counts.set(kind, (counts.get(kind) ?? 0) + 1)
      if (timer !== null) return
      since = performance.now()
      timer = setTimeout(flush, intervalMs)
      timer.unref()
    },
    flush,
  }
}

// The server's and the CLI's own defaults, each written once: the code, the CLI's `--help` (see
// `config.ts`) and docs/hub.md (checked by `test/config-docs.test.ts`) read them here. The
// defaults of the floors below are in `src/core/defaults.ts`, `src/hub/defaults.ts`,
// `src/storage/defaults.ts` and `src/http/defaults.ts`.

/** The port the CLI listens on by default. */
export const DEFAULT_PORT = 3000

/** The address the CLI binds by default. */
export const DEFAULT_HOST = '0.0.0.0'

/** The address the CLI binds in development mode (no keys): this machine only. */
export const DEVELOPMENT_HOST = '127.0.0.1'

/** Where the CLI keeps the history by default (see `--store`). */
export const DEFAULT_STORE = 'sqlite:./data/ssehub.db'

/** The CLI's default log level. */
export const DEFAULT_LOG_LEVEL = 'info'

/** Default time for a request's headers to arrive, in milliseconds. */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000

/** Default time for a whole request (headers and body) to arrive, in milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000

/** Default time an idle keep-alive connection (or HTTP/2 session) is kept, in milliseconds. */
export const DEFAULT_KEEP_ALIVE_TIMEOUT_MS = 5000

/** Default number of concurrent streams (requests, subscriptions) per HTTP/2 connection. */
export const DEFAULT_HTTP2_MAX_STREAMS = 100

/** Default largest request head (request line and headers), in bytes: Node's own default. */
export const DEFAULT_MAX_HEADER_BYTES = 16_384

/** Default time, in milliseconds, over which client errors are counted into one log line. */
export const DEFAULT_CLIENT_ERROR_INTERVAL_MS = 10_000

/** The Mercure protocols the CLI's hub speaks by default (see `--protocols`): both. */
export const DEFAULT_PROTOCOLS = '1.0,0.x'

/**
 * The issuer the CLI's hub trusts when `--trusted-issuers` is not set, bound to the hub's own keys:
 * the `iss` of the 1.0 tokens `ssehub token` and the built-in apps mint.
 */
export const DEFAULT_TRUSTED_ISSUER = 'ssehub'

// The HTTP adapters' defaults, each written once: the code, the CLI's `--help` (see
// `src/server/config.ts`) and docs/hub.md (checked by `test/config-docs.test.ts`) read them here.

/** The default name of the cookie a token may come in: [spec] Mercure's `mercureAuthorization`. */
export const DEFAULT_COOKIE_NAME = 'mercureAuthorization'

/**
 * The default name of the cookie a Mercure 1.0 access token may come in: [spec] "The cookie name
 * `__Secure-mercure_access_token` is RECOMMENDED" (draft-dunglas-mercure-08).
 */
export const DEFAULT_ACCESS_TOKEN_COOKIE_NAME = '__Secure-mercure_access_token'

/** The default largest publish body, in bytes: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576

/**
 * The largest body of a `QUERY` subscription, in bytes (also at most `maxBodyBytes`): 64 KiB holds
 * hundreds of matchers. It is read before the token is checked, so it stays small.
 */
export const MAX_QUERY_BODY_BYTES = 65_536

/** The default time a publish body has to arrive once its token was accepted, in milliseconds. */
export const DEFAULT_BODY_TIMEOUT_MS = 10_000

/** The default most `topic` parameters of one subscription (the reference hub's limit). */
export const DEFAULT_MAX_SELECTORS = 1000

// The defaults of one client's stream, each written once: the code, the CLI's `--help` (see
// `src/server/config.ts`) and docs/hub.md (checked by `test/config-docs.test.ts`) read them here.

/** The default heartbeat interval, in milliseconds: [spec] "a comment line … every 15 seconds or so". */
export const DEFAULT_HEARTBEAT_MS = 15_000

/** The default bound of what a client failed to take, in bytes: 1 MiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 1_048_576

/** The default time a client may take nothing while data waits for it, in milliseconds: 30 s. */
export const DEFAULT_STALL_TIMEOUT_MS = 30_000

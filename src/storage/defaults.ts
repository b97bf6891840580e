// The stores' defaults shared by all three, each written once: the code, the CLI's `--help` (see
// `src/server/config.ts`) and docs/hub.md (checked by `test/config-docs.test.ts`) read them here.

/** Default most updates a store retains (`RetentionOptions.maxUpdates`); the oldest go first. */
export const DEFAULT_MAX_UPDATES = 100_000

// The hub's defaults, each written once: the code, the CLI's `--help` (see `src/server/config.ts`)
// and docs/hub.md (checked by `test/config-docs.test.ts`) read them here.

/**
 * Default longest life of a connection, in milliseconds (randomized to 80–100 % per
 * connection): 10 minutes, as the reference hub.
 */
export const DEFAULT_MAX_LIFETIME_MS = 600_000

/**
 * Default bound of the template work of one topic: the summed costs of the distinct templates
 * whose literal prefixes are prefixes of one topic (for the topic that meets most). 4096 admits
 * 93 templates like `https://example.com/books/{id}` (cost 44) under one prefix, any number of
 * templates under distinct prefixes (`https://example.com/users/42/{?topic}`, one per user), and
 * 3 of the costliest (1056). Filled with the worst templates found, it leaves publishing at the
 * speed of exact topics (docs/benchmarks.md, "Template budget").
 */
export const DEFAULT_MAX_TEMPLATE_WORK = 4096

/**
 * Default bound of the summed costs of all distinct templates held, for their memory (20 to 50
 * bytes a unit, compiled and run): 1,048,576 holds nearly 20,000 per-user templates like
 * `https://example.com/users/42/{?topic}` (cost 53), in about 50 MB at most.
 */
export const DEFAULT_MAX_TEMPLATE_STATES = 1_048_576

/** Default cap of the subscriptions open at once from one client address (IPv6: its /64). */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_ADDRESS = 1000

/** Default cap of the subscriptions open at once with one token. */
export const DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN = 1000

/**
 * Default bound of an update's `id`, in UTF-8 bytes: room for every id scheme in use (a
 * `urn:uuid:` is 45 bytes, a URL id rarely passes 200) with a wide margin below any header limit.
 */
export const DEFAULT_MAX_ID_BYTES = 256

/** Default bound of an update's `type` (the SSE `event` field), in UTF-8 bytes. */
export const DEFAULT_MAX_TYPE_BYTES = 256

/** Default most `topic` fields in one update (the reference hub's limit). */
export const DEFAULT_MAX_TOPICS = 1000

/** Default longest topic of an update, in characters. */
export const DEFAULT_MAX_TOPIC_LENGTH = 8192

/** Default number of a connection's selectors (its first ones) that subscription events announce. */
export const DEFAULT_SUBSCRIPTION_EVENT_SELECTORS = 100

/** Default subscription events per second that one client address may cause. */
export const DEFAULT_SUBSCRIPTION_EVENT_RATE = 50

/** The default burst of subscription events of one client address, as a multiple of its rate. */
export const SUBSCRIPTION_EVENT_BURST_FACTOR = 10

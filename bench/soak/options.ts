import { parseArgs } from 'node:util'
import type { Injection } from './reception.ts'

/** The stores a soak can run against. */
export type StoreKind = 'memory' | 'sqlite' | 'redis'

const STORE_KINDS: readonly StoreKind[] = ['memory', 'sqlite', 'redis']

/** Everything one soak run needs, with defaults applied. */
export interface SoakOptions {
  /** How long each store is loaded, in milliseconds (each store gets the whole of it). */
  durationMs: number
  /**
   * Load before the measured minutes, so the hub reaches its steady state first (its history at
   * the retention bound, a reconnect storm's catch-ups behind it): RSS is judged after it.
   */
  warmupMs: number
  stores: StoreKind[]
  json: string | null
  seed: number
  /** Steady publishes per second, over all steady publishers. */
  rate: number
  /** Concurrent publishers in a burst. */
  burstPublishers: number
  /** Updates each burst publisher sends, one after another. */
  burstDepth: number
  burstEveryMs: number
  fast: number
  slow: number
  stalled: number
  tokenClients: number
  tokenTtlSeconds: number
  storms: number
  stormClients: number
  /** Hub restarts per durable store (the memory store is never restarted). */
  restarts: number
  historySize: number
  stallMs: number
  stallBytes: number
  drainMs: number
  /** How long a storm client may take to catch up before it counts as not caught up. */
  stormTimeoutMs: number
  maxRssMiB: number
  hubEnv: Record<string, string>
  hubArgs: string[]
  /** The hub's CLI entry point, to soak another checkout; `null` for this one's. */
  hubCli: string | null
  inject: Injection | null
  /** Draw no progress bar or progress lines (restarts, storms and verdicts still print). */
  quiet: boolean
}

/** The `--help` text. */
export const SOAK_USAGE = `Usage: npm run soak -- [options]
       node --import tsx bench/soak/run.ts [options]

Runs a hub (the real CLI, as a child process) under a mixed load for each store in turn, checks
that every reading client got every acknowledged update once and in order, and prints a report.
Each store is loaded for the whole of --minutes (they are not split): the memory store, then
SQLite, then two Redis-backed nodes. Exits 1 when any check fails.

  --minutes <n>         load per store, in minutes (5)
  --seconds <n>         load per store, in seconds (overrides --minutes; under 60 s the
                        counts below default to a small profile, shown in brackets)
  --stores <list>       memory,sqlite,redis (all; Redis is skipped with a message when none
                        answers, unless REQUIRE_REDIS=1)
  --json <file>         also write the figures as JSON, and one SVG chart per store beside
                        it (soak.json: soak-memory.svg, soak-sqlite.svg, soak-redis.svg)
  --seed <n>            seed of the random choices (random; printed)
  --rate <n>            steady publishes per second (40 [20])
  --burst-publishers <n> concurrent publishers per burst (64)
  --burst-depth <n>     updates per burst publisher (2 [1])
  --burst-every <s>     seconds between bursts (5 [1.5]); every third burst is heavy (16-32 KiB)
  --fast <n>            fast readers (6 [2])
  --slow <n>            slow readers: read with pauses, keep up on average (3 [1])
  --stalled <n>         stalled readers: stop reading until cut, not checked for loss (2 [1])
  --token-clients <n>   SseClient subscribers with expiring tokens (4 [2])
  --token-ttl <s>       their tokens' lifetime, renewed by the headers callback (30 [3])
  --storms <n>          reconnect storms, evenly spread (one a minute, at least 2 [1])
  --storm-clients <n>   new clients per storm, resuming from random points (24 [4]); two of
                        them (one in the small profile) resume from "earliest"
  --restarts <n>        hub restarts per durable store, alternating SIGKILL and SIGTERM (3 [1])
  --history-size <n>    the hub's --history-size (5000)
  --warmup <s>          load before the measured minutes, with a reconnect storm a minute (180 for
                        runs of 3 minutes or more, else 0): the hub's history reaches its bound
                        and its working set its size first; RSS is judged after it
  --stall <s>           longest stall of a stalled reader (60 [2])
  --stall-mib <n>       a stall also ends at this much published to it; a reader this far
                        behind must have been cut (48)
  --drain <s>           how long readers may take to catch up after publishing stops (60 [30])
  --storm-timeout <s>   how long a storm client may take to catch up (60 [20])
  --max-rss-mib <n>     bound on each hub's RSS (1024)
  --hub-env <K=V>       extra environment for the hubs (repeatable), e.g. a queue bound
  --hub-arg <arg>       extra hub CLI argument (repeatable), e.g. --hub-arg=--max-lifetime=20s
  --hub-cli <file>      the hub's src/server/cli.ts to run (this checkout's), e.g. that of an
                        older commit exported with git archive, to compare before and after
  --inject <fault>      plant a fault in one client's checker (drop | dup | reorder) to see
                        the report go red
  --quiet               no progress: no bar on a terminal, no progress lines otherwise
  -h, --help

Payloads: 10 B-1 KiB (80 %), 2-32 KiB (19 %), 256 KiB (1 %). The memory store is not restarted:
a restart empties its history by design, so every resuming client would be owed updates that no
longer exist anywhere; SQLite and Redis must lose nothing acknowledged across SIGTERM and SIGKILL.
RSS is read from /proc/<pid>/status every second; "flat" (runs of 3 minutes or more) compares the
last minute's mean with the second minute's (minutes counted after the warm-up), leaving out each
process's first 15 s.
`

/** Result of {@link parseSoakArgs}: options, or a request for help. */
export type ParsedSoakArgs = { help: true } | { help: false; options: SoakOptions }

/**
 * Reads the command line into {@link SoakOptions}.
 *
 * @throws {Error} naming the flag, for a value that is not a positive number or a known name.
 */
export function parseSoakArgs(argv: readonly string[]): ParsedSoakArgs {
  const number = { type: 'string' } as const
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      minutes: number,
      seconds: number,
      stores: number,
      json: number,
      seed: number,
      rate: number,
      'burst-publishers': number,
      'burst-depth': number,
      'burst-every': number,
      fast: number,
      slow: number,
      stalled: number,
      'token-clients': number,
      'token-ttl': number,
      storms: number,
      'storm-clients': number,
      restarts: number,
      'history-size': number,
      warmup: number,
      stall: number,
      'stall-mib': number,
      drain: number,
      'storm-timeout': number,
      'max-rss-mib': number,
      'hub-env': { type: 'string', multiple: true },
      'hub-arg': { type: 'string', multiple: true },
      'hub-cli': number,
      inject: number,
      quiet: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) return { help: true }
  const read = (name: keyof typeof values, fallback: number, whole = true): number => {
    const text = values[name]
    if (text === undefined) return fallback
    const value = Number(text)
    if (typeof text !== 'string' || !(value >= 0) || (whole && !Number.isInteger(value))) {
      throw new Error(`--${name} must be a ${whole ? 'whole ' : ''}number ≥ 0, got "${text}".`)
    }
    return value
  }
  const durationMs =
    values.seconds !== undefined
      ? read('seconds', 0, false) * 1000
      : read('minutes', 5, false) * 60_000
  if (durationMs <= 0) throw new Error('--minutes (or --seconds) must be more than 0.')
  const small = durationMs < 60_000
  const stores = (values.stores ?? STORE_KINDS.join(','))
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '')
  for (const store of stores) {
    if (!STORE_KINDS.includes(store as StoreKind)) {
      throw new Error(`--stores: unknown store "${store}"; choose from ${STORE_KINDS.join(', ')}.`)
    }
  }
  const hubEnv: Record<string, string> = {}
  for (const pair of values['hub-env'] ?? []) {
    const at = pair.indexOf('=')
    if (at <= 0) throw new Error(`--hub-env takes NAME=value, got "${pair}".`)
    hubEnv[pair.slice(0, at)] = pair.slice(at + 1)
  }
  const inject = values.inject ?? null
  if (inject !== null && inject !== 'drop' && inject !== 'dup' && inject !== 'reorder') {
    throw new Error(`--inject takes drop, dup or reorder, got "${inject}".`)
  }
  return {
    help: false,
    options: {
      durationMs,
      warmupMs: read('warmup', durationMs >= 180_000 ? 180 : 0, false) * 1000,
      stores: [...new Set(stores as StoreKind[])],
      json: values.json ?? null,
      seed: read('seed', Math.floor(Math.random() * 2 ** 31)),
      rate: read('rate', small ? 20 : 40, false),
      burstPublishers: read('burst-publishers', 64),
      burstDepth: read('burst-depth', small ? 1 : 2),
      burstEveryMs: read('burst-every', small ? 1.5 : 5, false) * 1000,
      fast: read('fast', small ? 2 : 6),
      slow: read('slow', small ? 1 : 3),
      stalled: read('stalled', small ? 1 : 2),
      tokenClients: read('token-clients', small ? 2 : 4),
      tokenTtlSeconds: Math.max(1, read('token-ttl', small ? 3 : 30)),
      storms: read('storms', small ? 1 : Math.max(2, Math.floor(durationMs / 60_000))),
      stormClients: read('storm-clients', small ? 4 : 24),
      restarts: read('restarts', small ? 1 : 3),
      historySize: Math.max(1, read('history-size', 5000)),
      stallMs: read('stall', small ? 2 : 60, false) * 1000,
      stallBytes: read('stall-mib', 48, false) * 1024 * 1024,
      drainMs: read('drain', small ? 30 : 60, false) * 1000,
      stormTimeoutMs: read('storm-timeout', small ? 20 : 60, false) * 1000,
      maxRssMiB: read('max-rss-mib', 1024, false),
      hubEnv,
      hubArgs: values['hub-arg'] ?? [],
      hubCli: values['hub-cli'] ?? null,
      inject,
      quiet: values.quiet ?? false,
    },
  }
}

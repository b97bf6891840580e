import { randomUUID } from 'node:crypto'
import type { ClusterView } from '../hub/cluster-view.ts'
import { type EventStore, StoreUnavailableError } from '../hub/event-store.ts'
import type {
  ActiveSubscription,
  DirectorySubscriber,
  SubscriptionDirectory,
} from '../hub/subscription-directory.ts'
import type { StoredUpdate, Update } from '../hub/update.ts'
import { DEFAULT_MAX_UPDATES } from './defaults.ts'
import { AppendBatcher } from './redis-batch.ts'
import { neverRan, newClient, type RedisClient } from './redis-client.ts'
import { StreamDelivery } from './redis-delivery.ts'
import { DIRECTORY_SCRIPTS, RedisSubscriptionDirectory } from './redis-directory.ts'
import {
  canonicalEntryId,
  compareEntryIds,
  decodeEntries,
  entryFields,
  entryTime,
  streamEntries,
  streamHead,
} from './redis-entries.ts'
import {
  describeUrl,
  fail,
  sleep,
  TimeoutError,
  unavailable,
  withTimeout,
} from './redis-failures.ts'
import { probeTaken, readyProbe } from './redis-probe.ts'
import { databaseOf, type RedisEventRelay } from './redis-relay.ts'
import { APPEND, EVICTION_BUDGET, FIND, PRUNE, type RedisScript } from './redis-scripts.ts'
import type { RetentionOptions } from './retention.ts'
import { checkMaxAgeMs, checkPositiveInteger, storedUpdate } from './stored-update.ts'

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions extends RetentionOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]`. Required. */
  url: string
  /**
   * Prepended to every key, so several hubs (or test runs) can share one Redis. Nodes of one hub
   * must use the same prefix. Defaults to `'ssehub:'`.
   */
  keyPrefix?: string
  /**
   * Longest wait for Redis to answer a command, in milliseconds: past it the append fails with
   * `store-unavailable` (the publisher gets a 503) and `ready()` answers `false`. An append that
   * times out has the outcome `'unknown'`: Redis may still run it, and a retry with the same id
   * stores it once. Defaults to `5000`.
   */
  commandTimeoutMs?: number
  /** Longest wait for the first connection at startup, in milliseconds. Defaults to `10000`. */
  connectTimeoutMs?: number
  /**
   * Longest pause between reconnection attempts, in milliseconds: the pause starts at 50 ms and
   * doubles (with jitter) up to this. Defaults to `2000`.
   */
  maxReconnectDelayMs?: number
  /**
   * How long the subscribers of a node that stopped without closing (killed) stay listed by the
   * subscriptions API, in milliseconds; a heartbeat refreshes it every third of it. Past it the
   * node is lost: `cluster.nodes()` shows it not alive, and a surviving node claims it and tells
   * its `cluster.onNodeLost` listeners, within a third of it more. Defaults to `30000`.
   */
  subscriptionTtlMs?: number
  /**
   * Told when a connection to Redis is lost (once per outage and connection), when a directory
   * write fails, and when the stream was trimmed past what this node had delivered. Defaults to
   * none.
   */
  onError?: (error: Error) => void
  /** Told when a lost connection is back. Defaults to none. */
  onReconnect?: (connection: 'commands' | 'reader') => void
}

const DEFAULT_PREFIX = 'ssehub:'
/** How long one XREAD blocks, in milliseconds: also how often a hung reader is noticed. */
const BLOCK_MS = 5000
/** Entries per XREAD: a node catching up takes them in pages of this many. */
const READ_COUNT = 1000
/** The age-pruning timer runs at most this often, in milliseconds. */
const MAX_PRUNE_INTERVAL_MS = 1000
type Client = RedisClient

/**
 * History in a Redis Stream shared by every hub node: the way to run several nodes behind a load
 * balancer. Cursors are stream entry ids (`<ms>-<seq>`), totally ordered by Redis, so
 * `Last-Event-ID` resumes the same on any node.
 *
 * - `append` runs one script (the retry check, XADD, the indexes, trimming by count and age) and
 *   resolves once Redis acknowledged it and this node's reader delivered it; it rejects with
 *   `store-unavailable` when Redis is unreachable (outcome `'not-stored'`) or took the command
 *   but did not answer in time (`'unknown'`). Appends made in one event-loop turn share one
 *   script call (group commit).
 * - Each node reads the stream with XREAD BLOCK on a dedicated connection and delivers every
 *   entry once, in stream order, to its listeners, moving `head()` in the same step. After an
 *   outage it resumes from the last entry it delivered, so nothing committed is skipped.
 * - `find` is an O(1) lookup in an id index kept (and trimmed) with the stream by the same
 *   scripts, rather than a capped scan: a thousand clients resuming at once after a node died
 *   cost a thousand hash lookups, not a thousand scans. A reused id resolves to its earliest
 *   retained entry; eviction hands the id over to the next one in the same step.
 * - A retry (an update identical to a retained one) is found through a digest index, with every
 *   retained update with its id, in one lookup; a reused id with other content is a new entry.
 * - As a {@link SubscriptionDirectory}, it lists the active subscriptions of every node.
 */
export class RedisStore implements EventStore, SubscriptionDirectory {
  readonly kind = 'redis'
  readonly #url: string
  readonly #where: string
  readonly #keys: string[]
  readonly #maxUpdates: number
  readonly #maxAgeMs: number | null
  readonly #commandTimeoutMs: number
  readonly #connectTimeoutMs: number
  readonly #maxReconnectDelayMs: number
  readonly #onError: (error: Error) => void
  readonly #onReconnect: (connection: 'commands' | 'reader') => void
  readonly #client: Client
  #reader: Client | undefined
  readonly #directory: RedisSubscriptionDirectory
  /** What this node delivered: the reader resumes after its head. */
  readonly #delivery = new StreamDelivery()
  readonly #inflight = new Set<Promise<StoredUpdate>>()
  readonly #batcher = new AppendBatcher({
    run: (args) => this.#run(APPEND, this.#keys, args),
    retention: () => [`${this.#maxUpdates}`, ...this.#pruneArgs()],
    mayHaveRun: (error) => !neverRan(error),
  })
  #reading: Promise<void> | undefined
  #pruneTimer: ReturnType<typeof setInterval> | undefined
  /** Connections currently lost, so an outage is reported once, not at every retry. */
  readonly #down = new Set<'commands' | 'reader'>()
  /** Set once `open` succeeded: failures before that are what `open` rejects with. */
  #opened = false
  #closed = false
  #stopping = false
  #closing: Promise<void> | undefined

  /** Prefer {@link createRedisStore}, which also connects. Throws a `RangeError` for bad options. */
  constructor(options: RedisStoreOptions) {
    this.#maxUpdates = checkPositiveInteger('maxUpdates', options.maxUpdates, DEFAULT_MAX_UPDATES)
    this.#maxAgeMs = checkMaxAgeMs(options.maxAgeMs)
    const { commandTimeoutMs, connectTimeoutMs, maxReconnectDelayMs: maxDelay } = options
    this.#commandTimeoutMs = checkPositiveInteger('commandTimeoutMs', commandTimeoutMs, 5000)
    this.#connectTimeoutMs = checkPositiveInteger('connectTimeoutMs', connectTimeoutMs, 10_000)
    this.#maxReconnectDelayMs = checkPositiveInteger('maxReconnectDelayMs', maxDelay, 2000)
    const ttlMs = checkPositiveInteger('subscriptionTtlMs', options.subscriptionTtlMs, 30_000)
    const prefix = options.keyPrefix ?? DEFAULT_PREFIX
    this.#url = options.url
    this.#where = describeUrl(options.url)
    this.#keys = [
      `${prefix}updates`,
      `${prefix}update-ids`,
      `${prefix}update-next`,
      `${prefix}update-digests`,
    ]
    this.#onError = options.onError ?? (() => {})
    this.#onReconnect = options.onReconnect ?? (() => {})
    this.#client = this.#createClient('commands')
    this.#directory = new RedisSubscriptionDirectory({
      commands: { send: (args) => this.#send(args), run: (s, k, a) => this.#run(s, k, a) },
      pubsub: () => this.#client.duplicate(),
      database: databaseOf(options.url),
      prefix,
      nodeId: randomUUID(),
      ttlMs,
      stream: this.#keys[0] as string,
      head: () => this.#delivery.head,
      onError: (error) => {
        // During an outage the lost connection was reported already: one line, not one a beat.
        if (!this.#down.has('commands')) {
          this.#onError(unavailable('could not update the subscriptions', error))
        }
      },
    })
  }

  /**
   * Connects, reads the stream's newest entry id as the head and its update id as the head id
   * (so cursors, replay and the hub's newest id continue across restarts), and starts the
   * reader. Rejects with `store-unavailable` when Redis does not answer within
   * `connectTimeoutMs`.
   */
  async open(): Promise<this> {
    try {
      await this.#connect(this.#client)
      const { cursor, id } = await this.#streamHead()
      this.#delivery.startAt(cursor, id)
      this.#reader = this.#createClient('reader')
      await this.#connect(this.#reader)
    } catch (error) {
      this.#closed = true
      this.#stopping = true
      this.#client.destroy()
      this.#reader?.destroy()
      throw unavailable(`could not open the Redis store at ${this.#where}`, error)
    }
    this.#opened = true
    this.#reading = this.#readLoop()
    if (this.#maxAgeMs !== null) {
      this.#pruneTimer = setInterval(
        () => void this.#run(PRUNE, this.#keys, this.#pruneArgs()).catch(() => {}),
        Math.min(this.#maxAgeMs, MAX_PRUNE_INTERVAL_MS),
      )
      // Housekeeping: it must not keep an otherwise finished process alive.
      this.#pruneTimer.unref()
    }
    await this.#directory.start(this.#connectTimeoutMs)
    return this
  }

  append(update: Update): Promise<StoredUpdate> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError('the Redis store is closed'))
    const pending = this.#append(update)
    this.#inflight.add(pending)
    const settled = (): void => {
      this.#inflight.delete(pending)
    }
    pending.then(settled, settled)
    return pending
  }

  onCommit(listener: (updates: readonly StoredUpdate[]) => void): () => void {
    return this.#delivery.onCommit(listener)
  }

  head(): string | null {
    return this.#delivery.head
  }

  headId(): string | null {
    return this.#delivery.headId
  }

  /**
   * Looks the id up in the shared index. Resolves only once this node has delivered the cursor
   * found: Redis may already hold updates this node's reader has yet to deliver, and the hub
   * replays up to `head()` and then sends what is delivered live, so a client resuming on a node
   * that lags behind the one it left would otherwise get the updates in between twice.
   */
  async find(id: string): Promise<string | null> {
    const args = [String(this.#maxAgeMs ?? 0), String(EVICTION_BUDGET), id]
    const cursor = await this.#run(FIND, this.#keys, args).catch(fail('could not look up an id'))
    if (typeof cursor !== 'string') return null
    await this.#delivery.whenDelivered(cursor, this.#commandTimeoutMs)
    return cursor
  }

  async read(after: string | null, upTo: string, limit: number): Promise<StoredUpdate[]> {
    upTo = canonicalEntryId(upTo)
    if (after !== null) after = canonicalEntryId(after)
    const count = Math.floor(limit)
    if (!(count > 0)) return []
    let start = after === null ? '-' : `(${after}`
    // Entries past the age limit may still be in the stream until the next prune: skip them.
    if (this.#maxAgeMs !== null) {
      const cutoff = `${Math.max(0, Date.now() - this.#maxAgeMs)}-0`
      if (after === null || compareEntryIds(cutoff, after) > 0) start = cutoff
    }
    const key = this.#keys[0] as string
    const reply = await this.#send(['XRANGE', key, start, upTo, 'COUNT', `${count}`]).catch(
      fail('could not read the history'),
    )
    return decodeEntries(reply)
  }

  async size(): Promise<number> {
    const length = await this.#run(PRUNE, this.#keys, this.#pruneArgs()).catch(
      fail('could not count the history'),
    )
    return Number(length)
  }

  /** Whether Redis takes a write (see `redis-probe.ts`) and this node's stream reader runs. */
  async ready(): Promise<boolean> {
    // Without its reader the node stores updates but delivers none to its own subscribers.
    if (this.#closed || this.#down.has('reader')) return false
    try {
      return probeTaken(await this.#send(readyProbe(this.#keys[0] as string)))
    } catch {
      return false
    }
  }

  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  addSubscriber(subscriber: DirectorySubscriber): void {
    if (!this.#closed) this.#directory.addSubscriber(subscriber)
  }

  deleteSubscriber(subscriber: DirectorySubscriber): void {
    if (!this.#closed) this.#directory.deleteSubscriber(subscriber)
  }

  /** The nodes sharing this store, and the subscribers of those lost (see `redis-cluster.ts`). */
  get cluster(): ClusterView {
    return this.#directory.cluster
  }

  /** Subscription events: relayed live to every node, never in the stream (see `redis-relay.ts`). */
  get subscriptionEvents(): RedisEventRelay {
    return this.#directory.events
  }

  listSubscriptions(): Promise<ActiveSubscription[]> {
    if (this.#closed) return Promise.reject(new StoreUnavailableError('the Redis store is closed'))
    return this.#directory.listSubscriptions().catch(fail('could not list the subscriptions'))
  }

  async #append(update: Update): Promise<StoredUpdate> {
    const cursor = await this.#batcher.add(entryFields(update), update.data.length)
    // Answered once this node's own subscribers have it; bounded, since it is committed anyway.
    await this.#delivery.whenDelivered(cursor, this.#commandTimeoutMs)
    return storedUpdate(update, cursor, entryTime(cursor))
  }

  async #readLoop(): Promise<void> {
    let failures = 0
    while (!this.#stopping) {
      const reader = this.#reader
      try {
        if (reader === undefined) {
          const fresh = this.#createClient('reader')
          this.#reader = fresh
          await this.#connect(fresh)
          continue
        }
        const key = this.#keys[0] as string
        const command = ['XREAD', 'COUNT', `${READ_COUNT}`, 'BLOCK', `${BLOCK_MS}`]
        const reply = await withTimeout(
          reader.sendCommand([...command, 'STREAMS', key, this.#delivery.head ?? '0-0']),
          BLOCK_MS + this.#commandTimeoutMs,
          'the stream reader got no answer',
        )
        if (this.#stopping) return
        if (failures > 0) {
          failures = 0
          if (this.#down.delete('reader')) this.#onReconnect('reader')
          await this.#checkGap()
        }
        this.#delivery.deliver(streamEntries(reply))
      } catch (error) {
        if (this.#stopping) return
        this.#lost('reader', error)
        failures++
        // Hung rather than closed: the driver would wait forever, so start a fresh connection.
        if (error instanceof TimeoutError && this.#reader === reader) {
          reader?.destroy()
          this.#reader = undefined
        }
        await sleep(this.#backoff(failures))
      }
    }
  }

  /**
   * After an outage: entries trimmed while this node was not reading are lost for its live
   * subscribers (they resume from history when they reconnect). Says so, rather than silently.
   */
  async #checkGap(): Promise<void> {
    const head = this.#delivery.head
    if (head === null) return
    const info = await this.#send(['XINFO', 'STREAM', this.#keys[0] as string]).catch(() => [])
    const deleted = streamHead(info).deleted
    if (deleted !== null && compareEntryIds(deleted, head) > 0) {
      this.#onError(
        new Error(
          `the Redis stream was trimmed past ${head} while this node was not reading it (up to ${deleted}): its live subscribers missed updates; raise the history size`,
        ),
      )
    }
  }

  async #close(): Promise<void> {
    this.#closed = true
    // When called from a listener, the dispatch that called it is still running: waiting here
    // lets it finish before anything else is delivered.
    await undefined
    // Appends accepted before close are committed and delivered rather than lost.
    await withTimeout(
      Promise.allSettled([...this.#inflight]),
      2 * this.#commandTimeoutMs,
      'pending appends',
    ).catch(() => {})
    this.#stopping = true
    clearInterval(this.#pruneTimer)
    await this.#directory.close()
    this.#reader?.destroy()
    await this.#reading
    this.#delivery.releaseAll()
    await withTimeout(this.#client.close(), this.#commandTimeoutMs, 'closing').catch(() => {
      this.#client.destroy()
    })
  }

  #createClient(connection: 'commands' | 'reader'): Client {
    const client = newClient(this.#url, Math.min(this.#connectTimeoutMs, 5000), (retries) =>
      this.#stopping ? false : this.#backoff(retries),
    )
    client.on('error', (error: unknown) => this.#lost(connection, error))
    client.on('ready', () => {
      // Loaded before any other command on this connection can be sent: otherwise the first
      // EVALSHA of each script after a (re)start falls back to EVAL after a NOSCRIPT round trip,
      // behind commands sent after it, and a subscriber could be listed after its event.
      if (connection === 'commands') {
        for (const { source } of [APPEND, FIND, PRUNE, ...DIRECTORY_SCRIPTS]) {
          client.sendCommand(['SCRIPT', 'LOAD', source]).catch(() => {})
        }
      }
      if (this.#down.delete(connection)) this.#onReconnect(connection)
    })
    return client
  }

  async #connect(client: Client): Promise<void> {
    const connecting = client.connect()
    connecting.catch(() => {})
    await withTimeout(connecting, this.#connectTimeoutMs, `no connection to ${this.#where}`)
  }

  async #streamHead(): Promise<{ cursor: string | null; id: string | null }> {
    try {
      return streamHead(await this.#send(['XINFO', 'STREAM', this.#keys[0] as string]))
    } catch (error) {
      // A fresh hub: the stream is created by the first append.
      if (/no such key/i.test(String((error as Error).message))) return { cursor: null, id: null }
      throw error
    }
  }

  #send(args: readonly string[]): Promise<unknown> {
    return withTimeout(
      this.#client.sendCommand(args),
      this.#commandTimeoutMs,
      `Redis at ${this.#where} did not answer within ${this.#commandTimeoutMs} ms`,
    )
  }

  async #run(script: RedisScript, keys: string[], args: string[]): Promise<unknown> {
    const tail = [`${keys.length}`, ...keys, ...args]
    try {
      return await this.#send(['EVALSHA', script.sha1, ...tail])
    } catch (error) {
      // Redis forgets scripts when it restarts: send the source, which it caches again.
      if (!/^NOSCRIPT/.test(String((error as Error).message))) throw error
      return await this.#send(['EVAL', script.source, ...tail])
    }
  }

  #pruneArgs(): [string, string] {
    return [`${this.#maxAgeMs ?? 0}`, `${EVICTION_BUDGET}`]
  }

  #lost(connection: 'commands' | 'reader', error: unknown): void {
    if (!this.#opened || this.#stopping || this.#down.has(connection)) return
    this.#down.add(connection)
    const what = connection === 'reader' ? 'stream reader' : 'command'
    this.#onError(unavailable(`lost the ${what} connection to Redis at ${this.#where}`, error))
  }

  #backoff(retries: number): number {
    const ceiling = Math.min(this.#maxReconnectDelayMs, 50 * 2 ** Math.min(retries, 16))
    return Math.round(ceiling * (0.5 + Math.random() / 2))
  }
}

/**
 * Connects to Redis and opens a {@link RedisStore}. Throws a `RangeError` for invalid options;
 * rejects with a `StoreUnavailableError` when Redis cannot be reached within `connectTimeoutMs`.
 */
export function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  return new RedisStore(options).open()
}

import type { SubscriptionEventRelay } from '../hub/subscription-event-relay.ts'
import type { Update } from '../hub/update.ts'
import { unavailable, withTimeout } from './redis-failures.ts'

/** What the relay needs of its own connection: a duplicate of the store's client (`redis.ts`). */
export interface PubSubConnection {
  connect(): Promise<unknown>
  subscribe(channel: string, listener: (message: string) => void): Promise<unknown>
  on(event: 'error' | 'ready', listener: (error?: unknown) => void): unknown
  destroy(): void
}

/** Options of {@link RedisEventRelay}. */
export interface RedisEventRelayOptions {
  /** The Pub/Sub channel: `<prefix>subscription-events:<database>`. */
  channel: string
  /** Makes the connection the relay subscribes on. */
  connect: () => PubSubConnection
  /** Sends a command on the store's command connection (behind its directory writes). */
  send: (args: readonly string[]) => Promise<unknown>
  /** Told once per outage that events cannot be sent or received. */
  onError: (error: Error) => void
}

/**
 * Subscription events between the nodes of one hub, over Redis Pub/Sub: never in the stream, so
 * a client reconnecting in a loop with many selectors cannot evict the history (issue #11). An
 * event is published on the store's command connection, after this node's directory writes, so
 * it reaches every node (this one included, on a connection of its own) once the subscriber it
 * announces is listed. Events are live only: those sent while a node cannot reach Redis do not
 * reach its watchers (they list the subscriptions again).
 */
export class RedisEventRelay implements SubscriptionEventRelay {
  readonly #options: RedisEventRelayOptions
  // A wrapper per registration, so one function registered twice is called twice.
  readonly #listeners = new Set<{ readonly listener: (event: Update) => void }>()
  readonly #down = new Set<'send' | 'receive'>()
  #connection: PubSubConnection | undefined
  #subscribed = false
  #closed = false
  #onSubscribed: () => void = () => {}

  /** Prefer {@link RedisEventRelay.start} right after: events are received from then on. */
  constructor(options: RedisEventRelayOptions) {
    this.#options = options
  }

  /**
   * Connects and subscribes; resolves once subscribed, or after `timeoutMs` having reported why
   * not (the connection keeps trying, and subscribes once it is ready). Never rejects.
   */
  async start(timeoutMs: number): Promise<void> {
    if (this.#connection !== undefined || this.#closed) return
    const subscribed = new Promise<void>((resolve) => {
      this.#onSubscribed = resolve
    })
    const connection = this.#options.connect()
    this.#connection = connection
    connection.on('error', (error) => this.#failed('receive', error))
    connection.on('ready', () => void this.#subscribe(connection))
    connection.connect().catch((error: unknown) => this.#failed('receive', error))
    await withTimeout(subscribed, timeoutMs, 'no subscription in time').catch((error: unknown) =>
      this.#failed('receive', error),
    )
  }

  send(event: Update): void {
    if (this.#closed) return
    const message = JSON.stringify({
      id: event.id,
      topics: event.topics,
      data: event.data,
      private: event.private,
    })
    this.#options.send(['PUBLISH', this.#options.channel, message]).then(
      () => this.#down.delete('send'),
      (error: unknown) => this.#failed('send', error),
    )
  }

  onEvent(listener: (event: Update) => void): () => void {
    const registration = { listener }
    this.#listeners.add(registration)
    return () => {
      this.#listeners.delete(registration)
    }
  }

  /** Stops receiving and closes the connection. */
  close(): void {
    this.#closed = true
    this.#listeners.clear()
    this.#connection?.destroy()
  }

  async #subscribe(connection: PubSubConnection): Promise<void> {
    // The driver subscribes again by itself after a reconnection: only the first time is ours.
    if (this.#subscribed) this.#down.delete('receive')
    if (this.#subscribed || this.#closed) return
    try {
      await connection.subscribe(this.#options.channel, (message) => this.#receive(message))
      this.#subscribed = true
      this.#down.delete('receive')
      this.#onSubscribed()
    } catch (error) {
      this.#failed('receive', error)
    }
  }

  #receive(message: string): void {
    if (this.#closed) return
    this.#down.delete('receive')
    const event = parseEvent(message)
    // A message some other program published on the channel is stepped over.
    if (event === undefined) return
    for (const { listener } of [...this.#listeners]) {
      try {
        listener(event)
      } catch (error) {
        // As CommitListeners: one throwing listener neither stops the others nor vanishes.
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  #failed(what: 'send' | 'receive', error: unknown): void {
    if (this.#closed || this.#down.has(what)) return
    this.#down.add(what)
    const context =
      what === 'send' ? 'could not send subscription events' : 'cannot receive subscription events'
    this.#options.onError(unavailable(context, error))
  }
}

/**
 * The database number of a Redis URL (`redis://host:6379/3` → `'3'`, `'0'` when it names none).
 * Pub/Sub channels are shared by every database of a server, unlike keys: two hubs on two
 * databases with one key prefix would otherwise hear each other's subscription events.
 */
export function databaseOf(url: string): string {
  try {
    const path = new URL(url).pathname.slice(1)
    return /^\d+$/.test(path) ? String(Number(path)) : '0'
  } catch {
    return '0'
  }
}

function parseEvent(message: string): Update | undefined {
  try {
    const value = JSON.parse(message) as Partial<Record<keyof Update, unknown>>
    const { id, topics, data } = value
    if (typeof id !== 'string' || typeof data !== 'string' || typeof value.private !== 'boolean') {
      return undefined
    }
    if (!Array.isArray(topics) || topics.length === 0) return undefined
    if (!topics.every((topic): topic is string => typeof topic === 'string')) return undefined
    return { id, topics, data, private: value.private }
  } catch {
    return undefined
  }
}

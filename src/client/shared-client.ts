import type { SseClientOptions } from './client-options.ts'
import { MessageQueue } from './message-queue.ts'
import { RecentIds } from './recent-ids.ts'
import {
  type ConnectionMessage,
  isRelayMessage,
  type LeaderState,
  type RelayMessage,
  toEvent,
} from './relay-message.ts'
import { RelayingClient } from './relaying-client.ts'
import type { SharedClientOptions } from './shared-client-options.ts'
import { type ReadyState, SseClient } from './sse-client.ts'
import { SseEventTarget } from './sse-event-target.ts'

/**
 * What a tab does for its shared subscription:
 * - `leader`: it holds the lock, owns the one connection and relays its events to the others;
 * - `follower`: it receives them from the leader, and becomes leader if the leader tab goes;
 * - `standalone`: Web Locks or `BroadcastChannel` are missing, so it has a connection of its own.
 */
export type SharedClientRole = 'leader' | 'follower' | 'standalone'

const CONNECTING = 0
const OPEN = 1
const CLOSED = 2
/** Prefixes the lock and channel names, so tabs running another protocol version never meet. */
const PROTOCOL = 'ssehub-shared/1:'

/**
 * A subscription shared by every tab of the origin that uses the same `name`: one hub connection
 * for all of them, where an {@link SseClient} per tab would take one each (and browsers allow six
 * per host on HTTP/1.1: the seventh tab would hang). It has the client's surface: `open`,
 * `message`, `error` and `gap` events (and server events by type) with their `on…` handlers,
 * `readyState`, `lastEventId`, `close()` and an async iterator.
 *
 * The first tab to take the Web Lock named after the subscription becomes the leader: it opens
 * the connection and relays every event over a `BroadcastChannel`; the other tabs are followers
 * and dispatch what it relays. The lock is held for the tab's life. When the leader tab closes,
 * the browser hands the lock to a follower, which connects with the last event id it saw relayed,
 * so the hub replays what was published meanwhile; events arriving twice in that hand-over (from
 * the old leader and the new connection) are dropped by id. Followers see a hand-over as nothing
 * at all: no `error`, no second `open`.
 *
 * A tab joining when the leader is already connected receives live events from then on. With a
 * `lastEventId` (say `'earliest'`, for a chat's history), it also gets the events from that id up
 * to the leader's last one, through a short catch-up connection of its own that closes as soon as
 * it reaches the leader; live events are held back meanwhile, so everything arrives in order. If
 * that catch-up fails for good, the tab fires `gap` (with `hubLastEventId` `''`): refetch.
 *
 * Where Web Locks or `BroadcastChannel` are missing (Web Locks need a secure context: HTTPS, or
 * `localhost`), each tab falls back to a connection of its own, as an `SseClient`.
 *
 * Duplicates are recognised by id: every tab remembers its last 1024 ids. A Mercure hub gives
 * every update a unique id; events without an `id:` field are never dropped.
 *
 * @example
 * ```ts
 * const client = createSharedClient('/.well-known/mercure', { topics: ['/chat/lobby'] })
 * client.addEventListener('message', (event) => show(JSON.parse(event.data)))
 * ```
 */
export class SharedSseClient extends SseEventTarget {
  readonly #url: string
  readonly #name: string
  readonly #withCredentials: boolean
  /** What each connection of this tab is given, without `lastEventId` (set per connection). */
  readonly #options: SseClientOptions
  readonly #startId: string
  readonly #signal: AbortSignal | undefined
  readonly #recent = new RecentIds()
  readonly #queues = new Set<MessageQueue<MessageEvent<string>>>()
  #readyState: ReadyState = CONNECTING
  #role: SharedClientRole = 'standalone'
  /** The id of the last event delivered (or `startId`): where this tab resumes as leader. */
  #lastId: string
  /**
   * The id of the last event of the hub's history this tab delivered: ids starting with `#` are
   * the hub's own events (ssehub's subscription events), sent live and never replayed, so a
   * follower's catch-up, which reads the history, could never reach one.
   */
  #lastHistoryId: string
  /** The leader's (or standalone tab's) connection. */
  #client: RelayingClient | null = null
  #channel: BroadcastChannel | null = null
  #lockRequest: AbortController | null = null
  #releaseLock: (() => void) | null = null
  /** Whether this follower has heard the leader's state. */
  #synced = false
  /** Relayed messages held back until this follower has caught up with the leader. */
  #held: ConnectionMessage[] | null = null
  #catchUp: RelayingClient | null = null
  #catchUpTo = ''

  /**
   * Joins the shared subscription of `url` and its selectors (`options.topics`, or `match` and
   * `matchUrlPattern`). See {@link SharedClientOptions} for the options and defaults.
   *
   * @throws {SyntaxError} when `url` is not a valid URL (relative outside a browser).
   * @throws {TypeError} when `lastEventId` contains CR, LF or NUL, when `topics` are mixed with
   *   `match` or `matchUrlPattern`, or when a Mercure 1.0 URL carries a token.
   * @throws {RangeError} when a duration option is negative or not a number.
   */
  constructor(url: string | URL, options: SharedClientOptions = {}) {
    super()
    const { name, signal, lastEventId, topics, match, matchUrlPattern, ...rest } = options
    // Validates the options now, as SseClient does, though the connection may come later (or
    // never, in a follower): a client created with an aborted signal checks them and stays closed.
    const probe = new SseClient(url, { ...options, signal: AbortSignal.abort() })
    this.#url = probe.url
    this.#withCredentials = probe.withCredentials
    this.#options = rest
    this.#startId = lastEventId ?? ''
    this.#lastId = this.#startId
    this.#lastHistoryId = this.#startId
    this.#name = PROTOCOL + (name ?? this.#url)
    this.#signal = signal
    if (signal?.aborted) {
      this.#readyState = CLOSED
      return
    }
    signal?.addEventListener('abort', this.#onAbort)
    const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
    if (locks === undefined || typeof BroadcastChannel !== 'function') this.#standAlone()
    else this.#share(locks)
  }

  /** `CONNECTING` (0), `OPEN` (1) or `CLOSED` (2): the state of the shared connection. */
  get readyState(): ReadyState {
    return this.#readyState
  }

  /** The subscription URL, absolute, with any selectors added. */
  get url(): string {
    return this.#url
  }

  /** Whether cross-origin requests carry credentials (the `withCredentials` option). */
  get withCredentials(): boolean {
    return this.#withCredentials
  }

  /** The `name` option, or the subscription URL it defaults to. */
  get name(): string {
    return this.#name.slice(PROTOCOL.length)
  }

  /** What this tab does now: `leader`, `follower` or `standalone` (see {@link SharedClientRole}). */
  get role(): SharedClientRole {
    return this.#role
  }

  /**
   * The id of the last event this tab received; before any, the `lastEventId` option, or for a
   * tab that joined live, where the leader stood then. A new client given it resumes there.
   */
  get lastEventId(): string {
    return this.#lastId
  }

  /**
   * Leaves the shared subscription for this tab: closes its connection if it leads (another tab
   * takes over), releases or withdraws its lock request, closes its channel, and sets readyState
   * to `CLOSED`; no event follows. Other tabs go on. Calling it again does nothing.
   */
  close(): void {
    this.#shutDown()
  }

  /**
   * Every server event (`message` and the other types), in order, until the client closes. Each
   * loop gets every event from the moment it starts; leaving it early (`break`) detaches it. The
   * events come from a connection shared with other tabs, which cannot wait for this tab's loop:
   * a loop that falls behind queues them without bound.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<MessageEvent<string>> {
    const queue = new MessageQueue<MessageEvent<string>>(
      (detached) => this.#queues.delete(detached),
      () => undefined,
    )
    if (this.#readyState === CLOSED) queue.end()
    else this.#queues.add(queue)
    return queue
  }

  #onAbort = (): void => this.close()

  /** Joins the tabs: asks for the leader's state, and queues for the lock. */
  #share(locks: LockManager): void {
    this.#role = 'follower'
    const channel = new BroadcastChannel(this.#name)
    channel.onmessage = (event: MessageEvent<unknown>) => this.#receive(event.data)
    this.#channel = channel
    // A follower resuming from an id holds live events back until it knows where the leader
    // stands (and has caught up with it): older events must come first.
    if (this.#startId !== '') this.#held = []
    this.#post({ kind: 'hello' })
    const request = new AbortController()
    this.#lockRequest = request
    locks
      .request(this.#name, { signal: request.signal }, () => this.#lead())
      .catch(() => {
        // An AbortError after close() withdrew the request: nothing left to do. Anything else
        // (a SecurityError in an opaque origin, say) means no lock will ever come: go alone.
        if (request.signal.aborted || this.#readyState === CLOSED || this.#client !== null) return
        this.#channel?.close()
        this.#channel = null
        this.#lockRequest = null
        this.#held = null
        this.#stopCatchUp()
        this.#standAlone()
      })
  }

  /** No sharing here: a connection of this tab's own, from the last event delivered. */
  #standAlone(): void {
    this.#role = 'standalone'
    this.#client = this.#connect(this.#lastId, (message) => this.#deliver(message))
  }

  #connect(from: string, emit: (message: ConnectionMessage) => void): RelayingClient {
    return new RelayingClient(this.#url, { ...this.#options, lastEventId: from }, emit)
  }

  #post(message: RelayMessage): void {
    this.#channel?.postMessage(message)
  }

  /** The lock is ours: connect, and hold the lock until close() or the end of the tab. */
  #lead(): Promise<void> | undefined {
    if (this.#readyState === CLOSED) return undefined
    this.#role = 'leader'
    this.#synced = true
    // A catch-up in progress is dropped with what it held back: the new connection resumes from
    // the last event delivered, so the hub replays all of it, in order.
    this.#stopCatchUp()
    this.#held = null
    this.#client = this.#connect(this.#lastId, (message) => {
      this.#post(message)
      this.#deliver(message)
    })
    // Tells the tabs that asked before this one led (and were not answered) where it stands.
    this.#post(this.#state())
    return new Promise((resolve) => {
      this.#releaseLock = resolve
    })
  }

  #state(): LeaderState {
    return { kind: 'state', readyState: this.#readyState, id: this.#lastHistoryId }
  }

  #receive(data: unknown): void {
    if (!isRelayMessage(data) || this.#readyState === CLOSED) return
    if (this.#role === 'leader') {
      // Events still in flight from a previous leader are ignored: this tab's own connection
      // resumed from the last one it delivered, so the hub sends them again. But a leader whose
      // hub said stop releases the lock as it ends, and the lock may reach this tab before its
      // last word: the end is everyone's, as for one client.
      if (data.kind === 'hello') this.#post(this.#state())
      else if (data.kind === 'error' && data.readyState === CLOSED) this.#deliver(data)
    } else if (data.kind === 'state') {
      if (!this.#synced) this.#sync(data)
    } else if (data.kind !== 'hello') {
      // The end is not held back: it ends the catch-up too.
      const final = data.kind === 'error' && data.readyState === CLOSED
      if (this.#held === null || final) this.#deliver(data)
      else this.#held.push(data)
    }
  }

  /** The leader said where it stands: open, and catch up from `lastEventId` if asked to. */
  #sync(state: LeaderState): void {
    this.#synced = true
    if (state.readyState === OPEN) this.#deliver({ kind: 'open' })
    const leaderId = state.id
    // 'earliest' is where the leader started, not an event: it has delivered nothing yet, so
    // everything it will deliver is relayed here too.
    const known = leaderId !== '' && leaderId !== 'earliest'
    if (this.#startId === '') {
      // Live events only; resume from the leader's position if this tab ever leads.
      if (known) this.#lastId = leaderId
    } else if (!known || leaderId === this.#lastId) {
      this.#release()
    } else {
      this.#catchUpTo = leaderId
      this.#catchUp = this.#connect(this.#lastId, (message) => this.#onCatchUp(message))
    }
  }

  /**
   * An event of this follower's own catch-up connection. It ends at the leader's last event, or
   * at an event the leader relayed meanwhile (the leader's last event is no longer in the hub's
   * history: the catch-up has reached live events).
   */
  #onCatchUp(message: ConnectionMessage): void {
    if (message.kind === 'event') {
      const id = message.id
      const relayed = this.#held?.some((held) => held.kind === 'event' && held.id === id)
      if (message.fresh && relayed) {
        this.#release()
        return
      }
      this.#deliver(message)
      if (id === this.#catchUpTo) this.#release()
    } else if (message.kind === 'gap') {
      this.#deliver(message)
      this.#release()
    } else if (message.kind === 'error' && message.readyState === CLOSED) {
      // The hub refused the catch-up (it retries by itself on other errors): history is missing.
      this.#deliver({ kind: 'gap', requestedId: this.#lastId, hubLastEventId: '' })
      this.#release()
    }
  }

  /** Ends the catch-up, and delivers the relayed messages held back meanwhile. */
  #release(): void {
    this.#stopCatchUp()
    const held = this.#held ?? []
    this.#held = null
    for (const message of held) this.#deliver(message)
  }

  #stopCatchUp(): void {
    this.#catchUp?.close()
    this.#catchUp = null
  }

  /** Dispatches what a connection reported (this tab's, or the leader's, relayed). */
  #deliver(message: ConnectionMessage): void {
    if (this.#readyState === CLOSED) return
    if (message.kind === 'event') {
      if (message.fresh && message.id !== '' && !this.#recent.add(message.id)) return
      this.#lastId = message.id
      if (!message.id.startsWith('#')) this.#lastHistoryId = message.id
      const event = toEvent(message) as MessageEvent<string>
      this.dispatchEvent(event)
      for (const queue of this.#queues) queue.push(event)
    } else if (message.kind === 'open') {
      // A hand-over opens a connection while this tab is already open: nothing to tell.
      if (this.#readyState === OPEN) return
      this.#readyState = OPEN
      this.dispatchEvent(toEvent(message))
    } else if (message.kind === 'error' && message.readyState === CLOSED) {
      // The hub said stop (or the stream was unusable): every tab ends, as one client would.
      const queues = [...this.#queues]
      this.#shutDown(false)
      this.dispatchEvent(toEvent(message))
      for (const queue of queues) queue.end()
    } else {
      if (message.kind === 'error') this.#readyState = CONNECTING
      this.dispatchEvent(toEvent(message))
    }
  }

  #shutDown(endQueues = true): void {
    this.#readyState = CLOSED
    this.#signal?.removeEventListener('abort', this.#onAbort)
    this.#client?.close()
    this.#client = null
    this.#stopCatchUp()
    this.#held = null
    this.#lockRequest?.abort()
    this.#lockRequest = null
    this.#releaseLock?.()
    this.#releaseLock = null
    this.#channel?.close()
    this.#channel = null
    if (endQueues) for (const queue of this.#queues) queue.end()
    this.#queues.clear()
  }
}

/**
 * Creates a {@link SharedSseClient}: the factory form of `new SharedSseClient(url, options)`.
 *
 * @throws {SyntaxError} when `url` is not a valid URL (relative outside a browser).
 * @throws {TypeError} when `lastEventId` contains CR, LF or NUL.
 * @throws {RangeError} when a duration option is negative or not a number.
 */
export function createSharedClient(
  url: string | URL,
  options?: SharedClientOptions,
): SharedSseClient {
  return new SharedSseClient(url, options)
}

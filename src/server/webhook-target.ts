import type { Agent } from 'node:http'
import type { Logger } from './logger.ts'
import { bodyOf, type PendingEvent, type WebhookEventKind } from './webhook-event.ts'
import { createWebhookAgent, postWebhook, type WebhookAnswer } from './webhook-post.ts'
import { backoffDelay, type RetryTiming, retryAfterDelay } from './webhook-retry.ts'
import { signWebhook, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER } from './webhook-signature.ts'

/** What one POST came to, for `ssehub_webhook_deliveries_total{result}`. */
export type DeliveryResult =
  | 'success'
  | 'rejected'
  | 'server-error'
  | 'throttled'
  | 'timeout'
  | 'network-error'

/**
 * Why an event was given up on: the queue was full when it came, the receiver refused it for good
 * (a 4xx other than 408 and 429, or a redirect), or the hub shut down before it was delivered.
 */
export type DropReason = 'queue-full' | 'rejected' | 'shutdown'

/** What a target reports, for metrics. Every method is optional. */
export interface WebhookTargetObserver {
  attempted?(target: string, result: DeliveryResult): void
  retried?(target: string): void
  dropped?(target: string, reason: DropReason, count: number): void
}

/** Options of a {@link WebhookTarget}, all required: `presence-webhooks.ts` sets the defaults. */
export interface WebhookTargetOptions extends RetryTiming {
  /** Where events are POSTed (no fragment). */
  readonly url: string
  /** How logs and metrics name it: never the path or query, which may hold a secret. */
  readonly label: string
  /** The events it takes. */
  readonly events: ReadonlySet<WebhookEventKind>
  readonly secret: string
  /** Most events queued; past it new ones are dropped. */
  readonly maxQueue: number
  /** Longest one POST may take, body included, in milliseconds. */
  readonly timeoutMs: number
  /** POSTs in flight at once, each for its own share of the subscribers. */
  readonly lanes: number
  /** Least time between two "queue full" warnings, in milliseconds. */
  readonly dropLogIntervalMs: number
  readonly logger: Logger
  readonly observer: WebhookTargetObserver
}

/** One ordered queue: the events of the subscribers whose ids hash to it. */
interface Lane {
  items: (PendingEvent | undefined)[]
  head: number
  running: boolean
  /** Consecutive failures of the event at its head. */
  failures: number
  /** Ends the current wait early. */
  wake: (() => void) | null
  /** Whether the current wait is a backoff (not a `Retry-After`), which a success elsewhere ends. */
  backoff: boolean
  /** Whether a success elsewhere already ended a backoff of the event at its head. */
  woken: boolean
  timer: NodeJS.Timeout | null
}

/**
 * The delivery queue of one webhook URL.
 *
 * Each event is one signed POST: the receiver verifies and acknowledges one event at a time, with
 * no batch to take apart, and a 4xx refuses that event alone. Throughput comes from `lanes`
 * POSTs in flight at once: an event goes to the lane its subscriber id hashes to, and each lane
 * sends strictly in order, the next event only once the one before is acknowledged or given up.
 * So a subscriber's `subscribe` always reaches the receiver before its `unsubscribe`, retries
 * included, while other subscribers' events go on in the other lanes. After an outage the first
 * success wakes every lane waiting out a backoff, so a backlog drains at the receiver's pace
 * instead of each lane's next backoff step.
 */
export class WebhookTarget {
  readonly #options: WebhookTargetOptions
  readonly #lanes: Lane[]
  readonly #stop = new AbortController()
  readonly #url: URL
  readonly #agent: Agent
  #queued = 0
  #stopped = false
  #failing = false
  #dropsSinceLog = 0
  #lastDropLog = Number.NEGATIVE_INFINITY
  #idle: (() => void) | null = null

  constructor(options: WebhookTargetOptions) {
    this.#options = options
    this.#url = new URL(options.url)
    this.#agent = createWebhookAgent(this.#url, options.lanes)
    this.#lanes = Array.from({ length: options.lanes }, () => ({
      items: [],
      head: 0,
      running: false,
      failures: 0,
      wake: null,
      backoff: false,
      woken: false,
      timer: null,
    }))
  }

  /** How logs and metrics name it. */
  get label(): string {
    return this.#options.label
  }

  /** Events waiting, the one in flight included. */
  get queued(): number {
    return this.#queued
  }

  /**
   * Queues `event` when this URL takes its kind; O(1), never throws, never waits: the POST starts
   * on a later turn of the event loop. Returns whether it was queued.
   */
  enqueue(event: PendingEvent): boolean {
    const options = this.#options
    if (!options.events.has(event.kind)) return false
    if (this.#stopped) {
      options.observer.dropped?.(options.label, 'shutdown', 1)
      return false
    }
    if (this.#queued >= options.maxQueue) {
      options.observer.dropped?.(options.label, 'queue-full', 1)
      this.#logDrop()
      return false
    }
    const lane = this.#lanes[laneOf(event.key, this.#lanes.length)] as Lane
    lane.items.push(event)
    this.#queued++
    if (!lane.running) {
      lane.running = true
      // Never in the caller's turn: the hub calls this while it registers a subscriber.
      setImmediate(() => void this.#run(lane))
    }
    return true
  }

  /**
   * Delivers what is queued for at most `graceMs`, then stops: in-flight POSTs are aborted and
   * what is left is dropped (reason `shutdown`). Resolves with the count left.
   */
  async close(graceMs: number): Promise<number> {
    if (!this.#stopped && this.#queued > 0) {
      // One last attempt now for lanes waiting out a backoff: the receiver may be back.
      for (const lane of this.#lanes) if (lane.backoff) lane.wake?.()
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs)
        this.#idle = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
    this.#stopped = true
    this.#stop.abort()
    this.#agent.destroy()
    for (const lane of this.#lanes) {
      if (lane.timer !== null) clearTimeout(lane.timer)
      lane.wake?.()
      lane.items = []
      lane.head = 0
    }
    const left = this.#queued
    this.#queued = 0
    if (left > 0) this.#options.observer.dropped?.(this.#options.label, 'shutdown', left)
    return left
  }

  async #run(lane: Lane): Promise<void> {
    const { observer, label, logger } = this.#options
    try {
      while (!this.#stopped && lane.head < lane.items.length) {
        const event = lane.items[lane.head] as PendingEvent
        const outcome = await this.#send(event)
        if (outcome === null || this.#stopped) break
        observer.attempted?.(label, outcome.result)
        if (outcome.result === 'success' || outcome.result === 'rejected') {
          this.#shift(lane)
          if (outcome.result === 'rejected') {
            observer.dropped?.(label, 'rejected', 1)
            logger.warn(
              { target: label, status: outcome.status, event: event.id },
              'webhook receiver refused an event for good: dropped',
            )
          } else {
            lane.failures = 0
            if (this.#failing) {
              this.#failing = false
              logger.info(
                { target: label, queued: this.#queued },
                'webhook receiver reachable again',
              )
            }
            // The receiver is back: every lane waiting out a backoff goes now. Once per event: an
            // event the receiver fails on its own (a 500 for that payload) must not be retried
            // after every success of the other lanes, a retry loop at the receiver's pace.
            for (const other of this.#lanes) {
              if (!other.backoff || other.woken) continue
              other.woken = true
              other.wake?.()
            }
          }
          continue
        }
        lane.failures++
        if (!this.#failing) {
          this.#failing = true
          logger.warn(
            { target: label, result: outcome.result, status: outcome.status, queued: this.#queued },
            'webhook receiver failing: retrying with backoff',
          )
        }
        observer.retried?.(label)
        const delay = outcome.retryAfterMs ?? backoffDelay(lane.failures, this.#options)
        await this.#wait(lane, delay, outcome.retryAfterMs === undefined)
      }
    } catch (error) {
      logger.error({ err: error, target: label }, 'webhook delivery failed')
    }
    lane.running = false
    if (this.#queued === 0) this.#idle?.()
  }

  #shift(lane: Lane): void {
    lane.items[lane.head] = undefined
    lane.woken = false
    lane.head++
    this.#queued--
    if (lane.head === lane.items.length) {
      lane.items = []
      lane.head = 0
    } else if (lane.head >= 1024 && lane.head * 2 >= lane.items.length) {
      lane.items = lane.items.slice(lane.head)
      lane.head = 0
    }
  }

  #wait(lane: Lane, ms: number, wakeable: boolean): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        if (lane.timer !== null) clearTimeout(lane.timer)
        lane.timer = null
        lane.wake = null
        lane.backoff = false
        resolve()
      }
      lane.timer = setTimeout(done, ms)
      // The server's life is its sockets', not a retry's.
      lane.timer.unref()
      lane.wake = done
      lane.backoff = wakeable
    })
  }

  async #send(
    event: PendingEvent,
  ): Promise<{ result: DeliveryResult; status?: number; retryAfterMs?: number } | null> {
    const { secret, timeoutMs } = this.#options
    let body: string
    try {
      body = bodyOf(event)
    } catch {
      // A payload JSON cannot hold (a custom store's BigInt): no retry would ever send it.
      return { result: 'rejected' }
    }
    const timestamp = Math.floor(Date.now() / 1000)
    const timeout = AbortSignal.timeout(timeoutMs)
    let answer: WebhookAnswer
    try {
      // A redirect is refused, not followed: following it would send the signed presence data
      // wherever the receiver (or whoever took over its DNS name) points.
      answer = await postWebhook(
        this.#url,
        body,
        {
          'content-type': 'application/json',
          'user-agent': 'ssehub-webhooks',
          [WEBHOOK_ID_HEADER]: event.id,
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
        },
        this.#agent,
        AbortSignal.any([timeout, this.#stop.signal]),
      )
    } catch {
      if (this.#stop.signal.aborted) return null
      return { result: timeout.aborted ? 'timeout' : 'network-error' }
    }
    const { status } = answer
    if (status >= 200 && status < 300) return { result: 'success', status }
    const retryAfterMs = retryAfterDelay(answer.retryAfter, this.#options)
    const retry = retryAfterMs === undefined ? { status } : { status, retryAfterMs }
    if (status === 408 || status === 429) return { result: 'throttled', ...retry }
    if (status >= 500) return { result: 'server-error', ...retry }
    return { result: 'rejected', status }
  }

  #logDrop(): void {
    this.#dropsSinceLog++
    const now = Date.now()
    // One line per interval, however many are dropped: a full queue means a flood of them.
    if (now - this.#lastDropLog < this.#options.dropLogIntervalMs) return
    this.#options.logger.warn(
      { target: this.#options.label, dropped: this.#dropsSinceLog, queued: this.#queued },
      'webhook queue full: dropping new events',
    )
    this.#lastDropLog = now
    this.#dropsSinceLog = 0
  }
}

/** FNV-1a of a subscriber id, to its lane (of `lanes`): all of one subscriber's events share one. */
export function laneOf(key: string, lanes: number): number {
  let hash = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % lanes
}

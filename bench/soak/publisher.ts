import type { Ledger, Update } from './ledger.ts'
import { payloadOf } from './payload.ts'
import type { Random } from './random.ts'

/** Options of {@link Lane}. */
export interface LaneOptions {
  /** Unique within the run: the middle part of its updates' ids. */
  name: string
  /** The run's tag: the first part of every id, so ids never clash with another run's. */
  tag: string
  topic: string
  private: boolean
  ledger: Ledger
  /** The hub URL for the next attempt (a Redis pair spreads publishes over both nodes). */
  url: () => string
  /** A publisher token for every topic. */
  token: string
  random: Random
  /** An update still unacknowledged at this time (`Date.now()` ms) is given up. */
  deadline: () => number
}

/** Statuses worth a retry with the same id: the hub (or the way to it) could not take it now. */
const RETRIABLE = new Set([0, 500, 502, 503, 504])

/**
 * A sequential publisher: it sends its next update only once the previous one was acknowledged
 * (or given up), so its updates must reach every client in the order it sent them. Ids are
 * `<tag>/<lane>/<seq>`, chosen by the publisher, and a failed attempt is retried with the same id.
 */
export class Lane {
  readonly name: string
  readonly topic: string
  readonly #options: LaneOptions
  #seq = 0

  constructor(options: LaneOptions) {
    this.name = options.name
    this.topic = options.topic
    this.#options = options
  }

  /** Publishes its next update, of `size` bytes, retrying until acknowledged or the deadline. */
  async publishNext(size: number): Promise<Update> {
    const { ledger, random } = this.#options
    this.#seq++
    const update = ledger.add({
      id: `${this.#options.tag}/${this.name}/${this.#seq}`,
      lane: this.name,
      seq: this.#seq,
      topic: this.topic,
      private: this.#options.private,
      size,
      sentAt: Date.now(),
    })
    const fields = [
      ['topic', update.topic],
      ['id', update.id],
      ['data', payloadOf(update.id, size)],
    ]
    if (update.private) fields.push(['private', 'on'])
    const body = new URLSearchParams(fields).toString()
    for (let attempt = 0; ; attempt++) {
      const status = await this.#post(body)
      update.statuses.push(status)
      if (status === 200) {
        ledger.ack(update, Date.now())
        return update
      }
      // A 409 to a retry: an earlier attempt was stored after all (its answer was lost).
      if (status === 409 && attempt > 0) {
        update.ackedBy409 = true
        ledger.ack(update, Date.now())
        return update
      }
      if (!RETRIABLE.has(status) || Date.now() > this.#options.deadline()) return update
      await sleep(Math.min(1000, 100 * 2 ** Math.min(attempt, 3)) + random.int(0, 100))
    }
  }

  async #post(body: string): Promise<number> {
    try {
      const res = await fetch(this.#options.url(), {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Bearer ${this.#options.token}`,
        },
        body,
        signal: AbortSignal.timeout(20_000),
      })
      await res.arrayBuffer()
      return res.status
    } catch {
      return 0
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

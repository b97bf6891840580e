/** One update the soak publishes, and what the hub answered. */
export interface Update {
  /** The id the publisher chose: `<lane>/<seq>` under the run's tag. */
  readonly id: string
  /** The sequential publisher that owns it: its updates are sent one after another. */
  readonly lane: string
  /** Its place in the lane, from 1. */
  readonly seq: number
  readonly topic: string
  readonly private: boolean
  /** `data` length, in bytes (the payload is ASCII). */
  readonly size: number
  /** When the first attempt was sent (`Date.now()` ms). */
  sentAt: number
  /** When the hub acknowledged it, or `null` until then (and for good when it never did). */
  ackAt: number | null
  /** Its place among acknowledged updates, from 0, or `-1` until acknowledged. */
  ordinal: number
  /** Every answer, in order: an HTTP status, or `0` for a request that failed. */
  readonly statuses: number[]
  /** Acknowledged by a 409 on a retry: an earlier attempt had been stored. */
  ackedBy409: boolean
}

/** Every update of one store's run, in the order they were first sent and acknowledged. */
export class Ledger {
  readonly #byId = new Map<string, Update>()
  /** Acknowledged updates, in the order of their acknowledgements. */
  readonly acked: Update[] = []
  /** Bytes of `data` acknowledged so far. */
  ackedBytes = 0
  readonly #bytesByTopic = new Map<string, number>()

  /** Registers an update about to be sent for the first time. */
  add(update: Omit<Update, 'ackAt' | 'ordinal' | 'statuses' | 'ackedBy409'>): Update {
    const entry: Update = { ...update, ackAt: null, ordinal: -1, statuses: [], ackedBy409: false }
    this.#byId.set(entry.id, entry)
    return entry
  }

  /** Records the hub's acknowledgement of `update`. */
  ack(update: Update, at: number): void {
    if (update.ackAt !== null) return
    update.ackAt = at
    update.ordinal = this.acked.length
    this.acked.push(update)
    this.ackedBytes += update.size
    this.#bytesByTopic.set(update.topic, (this.#bytesByTopic.get(update.topic) ?? 0) + update.size)
  }

  /** Bytes of `data` acknowledged so far on `topics`. */
  bytesOn(topics: Iterable<string>): number {
    let bytes = 0
    for (const topic of topics) bytes += this.#bytesByTopic.get(topic) ?? 0
    return bytes
  }

  get(id: string): Update | undefined {
    return this.#byId.get(id)
  }

  /** Every update registered, acknowledged or not. */
  all(): IterableIterator<Update> {
    return this.#byId.values()
  }

  get size(): number {
    return this.#byId.size
  }

  /** The newest acknowledged update, if any. */
  newest(): Update | undefined {
    return this.acked.at(-1)
  }

  /** Updates sent but not yet answered with an acknowledgement. */
  pending(): number {
    return this.#byId.size - this.acked.length
  }

  /** Bytes of the newest `count` acknowledged updates: what a history of `count` holds. */
  bytesOfNewest(count: number): number {
    let bytes = 0
    for (let i = Math.max(0, this.acked.length - count); i < this.acked.length; i++) {
      bytes += (this.acked[i] as Update).size
    }
    return bytes
  }
}

/**
 * How many received messages an async iterator may hold before the client stops reading the
 * stream until the loop catches up. The pause reaches the hub as TCP backpressure; a hub that
 * gives up on the slow reader closes the stream, and the client resumes by `Last-Event-ID`.
 */
export const ITERATOR_HIGH_WATER_MARK = 1024

/**
 * The queue behind one `for await` loop over a client: messages pushed by the connection,
 * pulled by the loop. Leaving the loop (`break`, `return`, a throw) detaches it.
 */
export class MessageQueue<T> implements AsyncIterableIterator<T> {
  readonly #items: T[] = []
  readonly #waiters: Array<(result: IteratorResult<T>) => void> = []
  readonly #onDetach: (queue: MessageQueue<T>) => void
  readonly #onDrain: () => void
  #ended = false

  /**
   * @param onDetach - called once when the loop leaves early.
   * @param onDrain - called when the queue falls back below {@link ITERATOR_HIGH_WATER_MARK}.
   */
  constructor(onDetach: (queue: MessageQueue<T>) => void, onDrain: () => void) {
    this.#onDetach = onDetach
    this.#onDrain = onDrain
  }

  /** Whether the loop is far enough behind that the connection should stop reading. */
  get backlogged(): boolean {
    return this.#items.length >= ITERATOR_HIGH_WATER_MARK
  }

  /** Hands `item` to a waiting loop, or queues it. Ignored after {@link MessageQueue.end}. */
  push(item: T): void {
    if (this.#ended) return
    const waiter = this.#waiters.shift()
    if (waiter === undefined) this.#items.push(item)
    else waiter({ done: false, value: item })
  }

  /** No more items: the loop gets what is queued, then finishes. */
  end(): void {
    if (this.#ended) return
    this.#ended = true
    for (const waiter of this.#waiters.splice(0)) waiter({ done: true, value: undefined })
  }

  next(): Promise<IteratorResult<T>> {
    if (this.#items.length > 0) {
      const value = this.#items.shift() as T
      if (this.#items.length === ITERATOR_HIGH_WATER_MARK - 1) this.#onDrain()
      return Promise.resolve({ done: false, value })
    }
    if (this.#ended) return Promise.resolve({ done: true, value: undefined })
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  return(): Promise<IteratorResult<T>> {
    if (!this.#ended) {
      this.#items.length = 0
      this.end()
      this.#onDetach(this)
    }
    return Promise.resolve({ done: true, value: undefined })
  }

  [Symbol.asyncIterator](): this {
    return this
  }
}

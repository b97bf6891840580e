/** An update as a publisher posts it (Mercure draft-07 §Publication), after validation. */
export interface Update {
  /** The update's id, sent as the SSE `id`: the publisher's, or `urn:uuid:<UUIDv7>` generated. */
  readonly id: string
  /** The topics: the first is the canonical IRI, the others alternates. At least one. */
  readonly topics: readonly string[]
  /** The payload (SSE `data`); `''` when the publisher sent none. */
  readonly data: string
  /** Whether only authorized subscribers may receive it. */
  readonly private: boolean
  /** The SSE `event` type, if any. */
  readonly type?: string | undefined
  /** The SSE `retry`, in milliseconds, if any. */
  readonly retry?: number | undefined
}

/** An update as a store returns it: with its place in the hub's total order. */
export interface StoredUpdate extends Update {
  /**
   * The store's position of this update: opaque to the hub, totally ordered by the store
   * (SQLite and memory: a decimal sequence number; Redis: a stream entry id).
   */
  readonly cursor: string
  /** When the store committed it, in milliseconds since the epoch. */
  readonly time: number
}

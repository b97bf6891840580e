/**
 * Marks an update whose id the hub generated (a fresh `urn:uuid:<UUIDv7>`, 62 of its bits random),
 * as `update[GENERATED_ID] === true`. Such an update repeats no retained one, so a store may skip
 * looking its id up for the retry check: in SQLite that look-up was an index probe per publish,
 * 3 % of the hub's CPU per durable publish measured from outside (issue #15). A store that
 * ignores the mark stays correct. A symbol, not a field: it never reaches the wire or JSON, and
 * a publisher's form cannot set it.
 */
export const GENERATED_ID: unique symbol = Symbol('ssehub.generatedId')

/** An update as a publisher posts it (Mercure draft-07 §Publication), after validation. */
export interface Update {
  /** `true` when the hub generated {@link Update.id} ({@link GENERATED_ID}). */
  readonly [GENERATED_ID]?: true
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

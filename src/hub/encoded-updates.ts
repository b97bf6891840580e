import { encodeEvent } from '../core/encode.ts'
import type { StoredUpdate, Update } from './update.ts'

/** The encoded bytes of stored updates, for the live dispatch and for replays. */
export interface EncodedUpdates {
  /**
   * The bytes of an update being dispatched live: the replays' if they hold it, else encoded now
   * and not held. Once written to its subscribers' sockets nothing needs them any more, and
   * holding them would make every publish pay for a place in the cache (a map entry in, one
   * evicted) and keep 8 MiB of bytes alive through the young generation's collections: in
   * bench/token-streaming.bench.ts (one subscriber per topic) the map's lookups were 1.7 % of the
   * hub's CPU and the scavenger 14 % (issue #15).
   */
  live(update: StoredUpdate): Uint8Array
  /**
   * The bytes of an update being replayed, held for the next replay (the oldest go first past
   * the bound): a reconnect storm, every subscriber replaying the same history, encodes each
   * update once.
   */
  replay(update: StoredUpdate): Uint8Array
}

/**
 * The bytes of recently replayed updates by cursor, at most `maxBytes` of them (the oldest entry
 * goes first), and the live dispatch's (see {@link EncodedUpdates}).
 */
export function createEncodedUpdates(maxBytes: number): EncodedUpdates {
  const encoded = new Map<string, Uint8Array>()
  let encodedBytes = 0
  // The cursors in the order they came in, oldest at `oldest`: eviction reads them from here, not
  // by iterating the map. A deleted map entry stays a hole until V8 rehashes the table, and every
  // new iteration walks the holes from the start: with the cache full (8 MiB, some 30,000 updates
  // of 250 bytes) that was a walk over thousands of holes per update, 14 % of the hub's CPU in
  // bench/token-streaming.bench.ts (8 µs per publish that reaches a subscriber).
  let order: string[] = []
  let oldest = 0
  return {
    live: (update) => encoded.get(update.cursor) ?? encodeUpdate(update),
    replay: (update) => {
      let bytes = encoded.get(update.cursor)
      if (bytes === undefined) {
        bytes = encodeUpdate(update)
        encoded.set(update.cursor, bytes)
        order.push(update.cursor)
        encodedBytes += bytes.byteLength
        while (encodedBytes > maxBytes && oldest < order.length) {
          const cursor = order[oldest++] as string
          encodedBytes -= (encoded.get(cursor) as Uint8Array).byteLength
          encoded.delete(cursor)
        }
        // Amortised: the evicted half is dropped in one copy, not one shift per update.
        if (oldest > 1024 && oldest * 2 > order.length) {
          order = order.slice(oldest)
          oldest = 0
        }
      }
      return bytes
    },
  }
}

/** The SSE bytes of an update: `id`, `event` (its type), `retry`, `data`. */
function encodeUpdate(update: Update): Uint8Array {
  return encodeEvent({
    id: update.id,
    event: update.type,
    retry: update.retry,
    data: update.data,
  })
}

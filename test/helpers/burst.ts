import type { Hub } from '../../src/hub/hub.ts'
import type { StoredUpdate } from '../../src/hub/update.ts'

/** A payload of `size` bytes that says which update it is, so a mix-up cannot go unseen. */
export function payload(n: number, size: number): string {
  const head = `#${n}:`
  return head + 'x'.repeat(size - head.length)
}

/** Publishes `count` updates of `size` bytes in one turn: the store commits them as one batch. */
export function burst(
  hub: Hub,
  topic: string,
  count: number,
  size: number,
  from = 0,
): Promise<StoredUpdate[]> {
  const updates: Array<Promise<StoredUpdate>> = []
  for (let n = from; n < from + count; n++) {
    updates.push(
      hub.publish({
        id: `urn:b:${topic}:${n}`,
        topics: [topic],
        data: payload(n, size),
        private: false,
      }),
    )
  }
  return Promise.all(updates)
}

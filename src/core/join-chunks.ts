// A stream's queued events are joined into one buffer before they reach the sink: one write of
// the response (one chunk of HTTP/1.1 chunked coding, one iovec) instead of one per event, which
// in Node costs far more than copying a few hundred bytes. In a fan-out, the streams flushed one
// after the other usually hold the very same updates, so the join is shared like the encoding:
// made once, written to every such stream.
const EMPTY = new Uint8Array(0)
let lastQueue: readonly Uint8Array[] = []
let lastJoined: Uint8Array = EMPTY
/** `queue` (of `bytes` bytes in all) as one buffer: the one made last when it holds the same chunks. */
export function joinChunks(queue: readonly Uint8Array[], bytes: number): Uint8Array {
  if (queue.length === lastQueue.length && queue.every((chunk, i) => chunk === lastQueue[i])) {
    return lastJoined
  }
  const buffer = new Uint8Array(bytes)
  let offset = 0
  for (const chunk of queue) {
    buffer.set(chunk, offset)
    offset += chunk.byteLength
  }
  lastQueue = queue
  lastJoined = buffer
  return buffer
}

/** Drops the last join (the end of a flush round): it must not keep its chunks alive. */
export function forgetJoin(): void {
  lastQueue = []
  lastJoined = EMPTY
}

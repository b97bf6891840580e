import { REPLAY_QUEUE_BYTES } from './replay-pacing.ts'

/**
 * A history page aims at about this many bytes of payload: its count of updates is this over the
 * mean size of recent updates (at most `replayPageSize`). A catch-up holds one page at a time, so
 * this bounds what a client far behind costs the hub, whatever the size of its updates.
 */
const REPLAY_PAGE_BYTES = 1024 * 1024

/**
 * All catch-ups together hold pages of about this many bytes of payload: with more than 16 at
 * once, each page is smaller (down to {@link REPLAY_QUEUE_BYTES}). Pages read from SQLite or
 * Redis are fresh copies: without this share, 240 slow clients reconnecting at once from random
 * points of a 35 MiB history held a page of 1 MiB each, and a Redis node peaked at 620 MiB RSS
 * and still held 371 MiB ten seconds after they left (with it: 334 and 210 MiB; SQLite peaked
 * at 554 MiB, with it 352).
 */
const REPLAY_PAGES_BYTES = 16 * 1024 * 1024

/**
 * The count of updates a catch-up reads in its next page: about {@link REPLAY_PAGE_BYTES} of
 * payload, or its share of {@link REPLAY_PAGES_BYTES} when `catchingUp` catch-ups run (at least
 * {@link REPLAY_QUEUE_BYTES}), over `payloadPerUpdate`; at least 1, at most `pageSize`.
 */
export function replayPageLimit(
  payloadPerUpdate: number,
  catchingUp: number,
  pageSize: number,
): number {
  const share = Math.max(
    REPLAY_QUEUE_BYTES,
    Math.min(REPLAY_PAGE_BYTES, REPLAY_PAGES_BYTES / Math.max(1, catchingUp)),
  )
  return Math.max(1, Math.min(pageSize, Math.floor(share / Math.max(1, payloadPerUpdate))))
}

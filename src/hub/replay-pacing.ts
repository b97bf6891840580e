import type { EventStream } from '../core/event-stream.ts'

// How history replays share the process. A replay writes into its stream until
// REPLAY_QUEUE_BYTES wait there, then lets the event loop turn (the flush hands the bytes to the
// transport) and, if the transport refused more, waits for it to drain: a replay of any length
// holds at most that much, plus one update, for its client, and goes exactly as fast as the
// client reads.
//
// Replays also share one budget of REPLAY_SLICE_MS per turn of the event loop, whatever their
// number: every replay waiting for a turn resumes in the same check phase, so a budget per
// replay would let twenty of them hold the loop for twenty slices (measured: 100-270 ms between
// two timer callbacks while 20 clients replayed 100,000 skipped rows). The first replay to work
// in a turn opens the budget and schedules its end with setImmediate; a replay that finds it
// spent yields to the next turn, where the budget is open again. I/O and timers run between.

/** Bytes a replay lets wait in its stream before it waits for the flush and the client. */
export const REPLAY_QUEUE_BYTES = 65_536

/** Milliseconds of replay work, all replays together, in one turn of the event loop. */
export const REPLAY_SLICE_MS = 4

const immediate: (callback: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (callback) => {
        globalThis.setImmediate(callback)
      }
    : (callback) => {
        setTimeout(callback, 0)
      }

/**
 * One turn of the event loop: I/O callbacks run before it resolves, which `await null` (a
 * microtask) never allows.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => immediate(resolve))
}

let turnStarted = -1
const endTurn = (): void => {
  turnStarted = -1
}

/** Whether replays may still work in this turn; the first call of a turn opens its budget. */
export function replayBudgetLeft(): boolean {
  const now = performance.now()
  if (turnStarted < 0) {
    turnStarted = now
    immediate(endTurn)
    return true
  }
  return now - turnStarted < REPLAY_SLICE_MS
}

/**
 * Resolves once a replay may write more into `stream`: after at least one turn, with replay budget
 * left in the turn, fewer than {@link REPLAY_QUEUE_BYTES} waiting in the stream and its transport
 * taking more; or once the stream closed.
 */
export async function room(stream: EventStream): Promise<void> {
  do await nextTurn()
  while (!replayBudgetLeft())
  while (!stream.closed && (stream.paused || stream.queuedBytes >= REPLAY_QUEUE_BYTES)) {
    if (stream.paused) await stream.drained()
    else await nextTurn()
    while (!replayBudgetLeft()) await nextTurn()
  }
}

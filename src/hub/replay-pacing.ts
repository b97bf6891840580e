import type { EventStream } from '../core/event-stream.ts'
import { scheduleImmediate } from '../core/next-turn.ts'

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
// in a turn opens the budget and schedules its close with setImmediate, so I/O and timers run
// between two budgets. A replay that finds it spent parks in a FIFO queue; when the budget
// closes, the first parked replay is woken with the next one, and each replay that stops to wait
// for its client wakes the next while budget is left. Parked replays are woken one at a time,
// never all at once: with 1,000 replays catching up together, waking all of them each turn only
// to park them again cost a fifth of the catch-up's CPU (bench/catch-up.bench.ts).

/** Bytes a replay lets wait in its stream before it waits for the flush and the client. */
export const REPLAY_QUEUE_BYTES = 65_536

/** Milliseconds of replay work, all replays together, in one turn of the event loop. */
const REPLAY_SLICE_MS = 4

/**
 * One turn of the event loop: I/O callbacks run before it resolves, which `await null` (a
 * microtask) never allows.
 */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => scheduleImmediate(resolve))
}

let turnStarted = -1
/** Replays waiting for budget, oldest first. */
const parked: Array<() => void> = []

const closeBudget = (): void => {
  turnStarted = -1
  wakeNext()
}

/** Whether replays may still work in this turn; the first call of a turn opens its budget. */
export function replayBudgetLeft(): boolean {
  const now = performance.now()
  if (turnStarted < 0) {
    turnStarted = now
    scheduleImmediate(closeBudget)
    return true
  }
  return now - turnStarted < REPLAY_SLICE_MS
}

/** Wakes the first parked replay if budget is left; else the budget's close will. */
function wakeNext(): void {
  if (parked.length === 0 || !replayBudgetLeft()) return
  ;(parked.shift() as () => void)()
}

/**
 * Resolves when a replay that found the budget spent may work again, in the order replays
 * parked. Call it only after {@link replayBudgetLeft} answered `false`: the budget's close, then
 * scheduled, wakes the first parked replay.
 */
export function waitForBudget(): Promise<void> {
  return new Promise((resolve) => {
    parked.push(resolve)
  })
}

/** A replay stops working for now (it waits for its client, or it is done): the next may run. */
export function yieldBudget(): void {
  wakeNext()
}

/**
 * Resolves once a replay may write more into `stream`: after at least one turn (the flush hands
 * what waits to the transport), once fewer than {@link REPLAY_QUEUE_BYTES} wait in it and its
 * transport takes more, and with replay budget left; or once the stream closed.
 */
export async function room(stream: EventStream): Promise<void> {
  yieldBudget()
  await nextTurn()
  while (!stream.closed && (stream.paused || stream.queuedBytes >= REPLAY_QUEUE_BYTES)) {
    if (stream.paused) await stream.drained()
    else await nextTurn()
  }
  if (!stream.closed && !replayBudgetLeft()) await waitForBudget()
}

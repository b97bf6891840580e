import { flushQueuedStreams } from '../core/event-stream.ts'
import { scheduleImmediate } from '../core/next-turn.ts'

/**
 * Runs `commit` at the end of this turn of the event loop (`setImmediate`), and after it, in the
 * same turn, the stream writes its dispatch queued: a store that commits there schedules its
 * batch with this.
 *
 * Why both: Node runs a callback queued by a `setImmediate` callback in the next turn, after the
 * next poll. The end-of-turn flush that the commit's dispatch queues (core/event-stream.ts) then
 * waited for that poll, which read the next publishes of the publishers the commit had just
 * answered: part of them joined the next batch and the rest the one after, so each socket write
 * of a delivery carried fewer updates. In bench/many-topics.bench.ts (4 publishers, 101
 * subscribers per update, memory store) that was 9 % more CPU per delivery than committing in a
 * microtask, whose deliveries left in the same turn. Queued now, before the commit runs, the
 * flush comes right after the commit and the microtasks it settles (the publishers' answers
 * first, then the deliveries), and before the next poll.
 */
export function scheduleEndOfTurnCommit(commit: () => void): void {
  scheduleImmediate(commit)
  scheduleImmediate(flushQueuedStreams)
}

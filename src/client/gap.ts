import { fromHeaderValue } from './header-value.ts'

/** What a {@link SseGapEvent} carries. */
export interface GapInit {
  /** The `Last-Event-ID` the client resumed with. */
  requestedId: string
  /**
   * What the hub answered in its `Last-Event-ID` (or `Mercure-Last-Event-ID`) response header:
   * `'earliest'` when the requested id is no longer (or never was) in its history. When the gap
   * was told by the hub's in-stream signal instead (the `gapSignal` option), its newest id.
   */
  hubLastEventId: string
}

/**
 * Fired (as `gap`) when the client resumed from an id the hub could not resume from: the updates
 * published in between are lost to this connection, so refetch the state the app shows. The hub
 * replays nothing in that case; live updates follow as usual.
 *
 * The name is the client's own: a hub update of type `gap` would arrive as a `MessageEvent`
 * under the same name, so do not publish updates with that type to clients using gap detection.
 */
export class SseGapEvent extends Event {
  /** The `Last-Event-ID` the client resumed with. */
  readonly requestedId: string
  /** The hub's answer: `'earliest'`, an id other than the one asked for, or its newest id. */
  readonly hubLastEventId: string

  constructor(init: GapInit) {
    super('gap')
    this.requestedId = init.requestedId
    this.hubLastEventId = init.hubLastEventId
  }
}

/**
 * Whether a resumed connection missed updates, from the id the client sent and the hub's
 * `Last-Event-ID` response header (a byte string, as fetch returns it, or `null` when absent).
 *
 * A Mercure hub answers with the id asked for when it found it (a gap-free replay follows), or
 * `earliest` when it did not. No header (a plain SSE server) and no requested id (a first
 * connection) say nothing; asking for `earliest` (the whole history) is never a gap.
 */
export function detectGap(requestedId: string, header: string | null): GapInit | null {
  if (requestedId === '' || requestedId === 'earliest' || header === null) return null
  const hubLastEventId = fromHeaderValue(header)
  if (hubLastEventId === requestedId) return null
  return { requestedId, hubLastEventId }
}

/**
 * The gap an ssehub hub signals in the stream (asked for with `gap=1`): an `event: mercure` block
 * whose data is `{"type":"gap","last_event_id":"<the id asked for>"}` and whose `id` is the hub's
 * newest. `null` for any other `mercure` event (a Mercure 1.0 subscription event, say).
 */
export function readGapBlock(data: string, id: string): GapInit | null {
  // A cheap test first: subscription events are far more common than gap blocks.
  if (!data.includes('"gap"')) return null
  let block: { type?: unknown; last_event_id?: unknown }
  try {
    block = JSON.parse(data) as typeof block
  } catch {
    return null
  }
  if (block?.type !== 'gap' || typeof block.last_event_id !== 'string') return null
  return { requestedId: block.last_event_id, hubLastEventId: id }
}

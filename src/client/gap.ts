import { fromHeaderValue } from './header-value.ts'

/** What a {@link SseGapEvent} carries. */
export interface GapInit {
  /** The `Last-Event-ID` the client resumed with. */
  requestedId: string
  /**
   * What the hub answered in its `Last-Event-ID` (or `Mercure-Last-Event-ID`) response header:
   * `'earliest'` when the requested id is no longer (or never was) in its history.
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
  /** The hub's answer: `'earliest'`, or an id other than the one asked for. */
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

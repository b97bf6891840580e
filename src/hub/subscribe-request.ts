import type { EventStream } from '../core/event-stream.ts'
import type { SubscriberClaims } from './subscriber.ts'
import type { TraceSpan } from './trace-span.ts'

/** What the HTTP layer hands the hub to subscribe one connection. */
export interface SubscribeRequest {
  /** The `topic` selectors (at least one). */
  selectors: readonly string[]
  /** The verified claims, or `null` for an anonymous subscriber. */
  claims: SubscriberClaims | null
  /** `Last-Event-ID` or `lastEventID`, if the request had one. */
  lastEventId: string | undefined
  /**
   * The client's address: each one has its own budget of subscription events. Defaults to one
   * budget for every request without one.
   */
  clientAddress?: string | undefined
  /**
   * A digest of the token the request carried (never the token itself), for the cap per token.
   * Defaults to none: the request counts against no token's cap.
   */
  tokenDigest?: string | undefined
  /**
   * Whether a subscriber without a cursor is sent the newest id at once, as an id-only block
   * (`id: …` and no data). It moves the client's last event ID and dispatches nothing in a
   * conforming client, so a stream that drops before its first event resumes without a gap; but
   * several common third-party clients hand that block to the application as an empty message,
   * so it is sent only to clients that ask (`?cursor=1`, as `ssehub/client` does). Defaults to
   * `false`.
   */
  sendCursor?: boolean | undefined
  /** The moment the token expires (ms since the epoch), if it does. */
  expiresAt?: number | undefined
  /**
   * Which protocol the subscriber speaks, for the shape of its subscription events and its entry
   * in the subscriptions API. Defaults to `'0.x'`.
   */
  protocol?: '0.x' | '1.0' | undefined
  /**
   * Whether a resume from an id the history does not hold (expired, or never published) first
   * gets a gap block: `event: mercure`, the head's id (so the client's next resume is from here),
   * and `{"type":"gap","last_event_id":…}` as data. `EventSource` cannot read the
   * `Mercure-Last-Event-ID` header that says the same, so a page opts in (`?gap=1`) to refetch its
   * state when the block arrives. Defaults to `false`: no client sees an event it did not ask for.
   */
  signalGap?: boolean | undefined
  /**
   * The subscribe request's span: a replay from the history is recorded under it as `replay`,
   * with the count of updates sent. Defaults to none: nothing is traced.
   */
  span?: TraceSpan | undefined
  /**
   * Opens the response with these extra headers and returns its stream. Called once, after the
   * history cursor is known (its header must go out with the first bytes). The values are text:
   * the HTTP adapter sends them as UTF-8.
   */
  open(headers: Record<string, string>): EventStream
}

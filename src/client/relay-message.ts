import { type SseClientErrorCode, SseErrorEvent } from './error-event.ts'
import { SseGapEvent } from './gap.ts'
import type { ReadyState } from './sse-client.ts'

/**
 * A server event, as the leader tab relays it. `fresh` is `false` when the event had no `id:`
 * field of its own (it carries the previous event's id, as the standard says): only fresh events
 * are dropped as duplicates, so an id-less event is never taken for the one before it.
 */
export interface RelayedEvent {
  kind: 'event'
  type: string
  data: string
  id: string
  origin: string
  fresh: boolean
}

/** The leader's connection opened. */
export interface RelayedOpen {
  kind: 'open'
}

/** The leader's connection failed: `readyState` tells a reconnection from the end. */
export interface RelayedError {
  kind: 'error'
  code: SseClientErrorCode
  message: string
  status: number | undefined
  readyState: ReadyState
}

/** The leader's connection missed updates. */
export interface RelayedGap {
  kind: 'gap'
  requestedId: string
  hubLastEventId: string
}

/** A new tab asks the leader where it stands. */
export interface Hello {
  kind: 'hello'
}

/**
 * The leader's answer to {@link Hello}, also sent when a tab becomes leader: its readyState and
 * the last event id it delivered (where a new follower's own history ends).
 */
export interface LeaderState {
  kind: 'state'
  readyState: ReadyState
  id: string
}

/** What the tabs sharing a subscription say to each other over their `BroadcastChannel`. */
export type RelayMessage =
  | RelayedEvent
  | RelayedOpen
  | RelayedError
  | RelayedGap
  | Hello
  | LeaderState

/** What a connection reports: the four events a tab's app can see. */
export type ConnectionMessage = RelayedEvent | RelayedOpen | RelayedError | RelayedGap

const KINDS = new Set(['event', 'open', 'error', 'gap', 'hello', 'state'])

/**
 * Whether `data`, received from the channel, is a message of this protocol. Only pages of the
 * same origin can post there, but one may run another version of the client (or another app may
 * have picked the same name): anything else is ignored.
 */
export function isRelayMessage(data: unknown): data is RelayMessage {
  return (
    typeof data === 'object' &&
    data !== null &&
    KINDS.has((data as { kind?: unknown }).kind as string)
  )
}

/** The `Event` a tab dispatches for a relayed message, as `SseClient` would have fired it. */
export function toEvent(message: ConnectionMessage): Event {
  switch (message.kind) {
    case 'event':
      return new MessageEvent(message.type, {
        data: message.data,
        lastEventId: message.id,
        origin: message.origin,
      })
    case 'error':
      return new SseErrorEvent(message)
    case 'gap':
      return new SseGapEvent(message)
    default:
      return new Event('open')
  }
}

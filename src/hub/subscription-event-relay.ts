import type { Update } from './update.ts'

/**
 * Carries subscription events between the hub nodes sharing a store: an optional capability of a
 * store, as `SubscriptionDirectory` is. Subscription events are never history (a client
 * reconnecting in a loop with many selectors would otherwise evict the real updates others resume
 * from), so they cannot travel through the store's commits: a store shared by several nodes
 * (Redis) relays them live instead. Without a relay the hub delivers them to its own subscribers.
 *
 * Ordering contract: an event sent after a `SubscriptionDirectory` change of this node reaches
 * every node after that change is visible to `listSubscriptions`.
 *
 * A relay need carry only `id`, `topics`, `data` and `private`: the announcer reads an event's
 * protocol (0.x or 1.0, hence its SSE type) back from its topic (`subscriptionEventProtocol`).
 */
export interface SubscriptionEventRelay {
  /**
   * Sends `event` to the listeners of every node, this one's included. Never throws: while the
   * relay cannot reach the other nodes the event is lost (subscription events are live only).
   */
  send(event: Update): void
  /** Registers a listener for events sent by any node; returns the function that unregisters it. */
  onEvent(listener: (event: Update) => void): () => void
}

/** The relay of a store that has one (`store.subscriptionEvents`), else `undefined`. */
export function subscriptionEventRelayOf(store: object): SubscriptionEventRelay | undefined {
  const relay = (store as { subscriptionEvents?: Partial<SubscriptionEventRelay> })
    .subscriptionEvents
  return typeof relay?.send === 'function' && typeof relay.onEvent === 'function'
    ? (relay as SubscriptionEventRelay)
    : undefined
}

/**
 * ssehub/hub: the Mercure hub without HTTP, and the contracts it needs. `createHub` publishes,
 * subscribes with gap-free replay, and delivers private updates and subscription events to the
 * streams you give it; a store implements `EventStore` (the memory store is here; SQLite and
 * Redis are `ssehub/storage/sqlite` and `ssehub/storage/redis`). Tokens are checked by the HTTP
 * adapters (`ssehub/node`): the hub takes claims that were already verified.
 *
 * This entry imports no package and no `node:` module. It stands on the storage floor, not the
 * hub's, because it also re-exports the memory store.
 *
 * @module
 */

export { DEFAULT_MAX_UPDATES } from '../storage/defaults.ts'
export { createMemoryStore, MemoryStore, type MemoryStoreOptions } from '../storage/memory.ts'
export type { RetentionOptions } from '../storage/retention.ts'
export type { ClusterNode, ClusterView, LostNode, LostSubscriber } from './cluster-view.ts'
export {
  DEFAULT_MAX_LIFETIME_MS,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_ADDRESS,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN,
  DEFAULT_MAX_TEMPLATE_STATES,
  DEFAULT_MAX_TEMPLATE_WORK,
  DEFAULT_SUBSCRIPTION_EVENT_RATE,
  DEFAULT_SUBSCRIPTION_EVENT_SELECTORS,
  SUBSCRIPTION_EVENT_BURST_FACTOR,
} from './defaults.ts'
export {
  type AppendOutcome,
  type EventStore,
  StoreUnavailableError,
  type StoreUnavailableErrorOptions,
} from './event-store.ts'
export {
  createHub,
  type Hub,
  type HubMetrics,
  type HubOptions,
  type SubscribeRequest,
} from './hub.ts'
export { describeSelector, type SelectorParts } from './mercure-matcher.ts'
export type { Subscriber, SubscriberClaims } from './subscriber.ts'
export type { SubscriptionEventLimits } from './subscription-announcer.ts'
export type {
  ActiveSubscription,
  DirectorySubscriber,
  SubscriptionDirectory,
} from './subscription-directory.ts'
export type { SubscriptionEventRelay } from './subscription-event-relay.ts'
export { subscriptionTopic } from './subscription-events.ts'
export { type SubscriptionLimit, SubscriptionLimitError } from './subscription-limits.ts'
export { subscriptionPayload } from './subscription-payload.ts'
export {
  createSelectorMatcher,
  type SelectorMatcher,
  type SelectorMatcherOptions,
} from './topic-selector.ts'
export type { TraceSpan } from './trace-span.ts'
export type { StoredUpdate, Update } from './update.ts'

import type { SubscribePayload } from './subscriber.ts'

/**
 * What a store shared by several hub nodes (Redis) tells about the cluster: the nodes it sees and
 * the subscribers of a node that stopped without saying so. The dashboard draws one row per node;
 * presence webhooks announce the lost node's subscribers as gone. A store of one node has none.
 */
export interface ClusterView {
  /**
   * This node's id in the cluster, known as soon as the view exists (the `id` of the node that
   * `nodes()` lists as `self`); `null` when the store does not know it.
   */
  readonly nodeId: string | null
  /**
   * Every node the shared store knows of, this one included, sorted by id: the alive ones, and
   * lost ones that no survivor has claimed yet (`alive: false`). Rejects with a
   * `StoreUnavailableError` when the store cannot answer.
   */
  nodes(): Promise<ClusterNode[]>
  /**
   * Calls `listener` once per lost node, on exactly one surviving node (the one that claimed it),
   * with the subscribers the lost node had registered. A node that closes is not lost. Redis: a
   * node claims only while it has a listener, and a lost node's subscribers are kept for twice
   * the subscription TTL after its last heartbeat: with no listener anywhere that long, no node
   * hears of them (at most once, never twice). Returns the function that stops listening.
   */
  onNodeLost(listener: (node: LostNode) => void): () => void
}

/** One node of the cluster, as last reported by its heartbeat. */
export interface ClusterNode {
  /** The node's id. */
  readonly id: string
  /** Whether this is the node answering. */
  readonly self: boolean
  /** Whether its heartbeat is current. */
  readonly alive: boolean
  /** Its connected subscribers at its last heartbeat. */
  readonly subscribers: number
  /**
   * How far its reader trails the shared stream, in milliseconds, at its last heartbeat: how long
   * the oldest entry it had yet to deliver had been in the stream (so `0` when caught up, however
   * long the stream has been idle, and growing while its reader is stuck); `null` when not known.
   */
  readonly lagMs: number | null
  /** When it last reported, in milliseconds since the epoch. */
  readonly seenAt: number
}

/** A node that stopped without removing its subscribers, and those subscribers. */
export interface LostNode {
  readonly id: string
  readonly subscribers: readonly LostSubscriber[]
}

/** A subscriber of a lost node, as the node registered it. */
export interface LostSubscriber {
  /** Its IRI (`urn:uuid:…`). */
  readonly id: string
  /** The selectors it subscribed with. */
  readonly selectors: readonly string[]
  /** Its `payload` claim, if any (Mercure 0.x tokens). */
  readonly payload?: unknown
  /**
   * Its 1.0 token's `subscribe` details (selectors and payload each), if any: a payload per
   * subscription, picked with `subscriptionPayload` as its own node did.
   */
  readonly subscribePayloads?: readonly SubscribePayload[]
}

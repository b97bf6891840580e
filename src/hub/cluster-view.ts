/**
 * What a store shared by several hub nodes (Redis) tells about the cluster: the nodes it sees and
 * the subscribers of a node that stopped without saying so. The dashboard draws one row per node;
 * presence webhooks announce the lost node's subscribers as gone. A store of one node has none.
 */
export interface ClusterView {
  /** Every node the shared store knows of, this one included, alive or recently lost. */
  nodes(): Promise<ClusterNode[]>
  /**
   * Calls `listener` once per lost node, on exactly one surviving node (the one that claimed it),
   * with the subscribers the lost node had registered. Returns the function that stops listening.
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
   * How far its reader trails the newest entry of the shared stream, in milliseconds, at its last
   * heartbeat; `null` when not known.
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
  /** Its `payload` claim, if any. */
  readonly payload?: unknown
}

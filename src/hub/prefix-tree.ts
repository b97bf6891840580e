/**
 * A radix tree of string prefixes, each holding a value and a cost. One walk down a string finds
 * the values of all its prefixes held in the tree, in O(string length) whatever their number; and
 * the tree keeps, at every change, the most that such a walk can meet: the largest sum of costs
 * along one chain of prefixes (root to leaf).
 *
 * @module
 */

class PrefixNode<V> {
  /** The characters from the parent to this node (empty for the root only). */
  edge: string
  parent: PrefixNode<V> | null
  /** Children by the first character code of their edge. */
  children: Map<number, PrefixNode<V>> | null = null
  value: V | undefined = undefined
  cost = 0
  /** The largest `worst` among the children (`0` without children). */
  below = 0
  /** `cost + below`: the most one walk through this node meets from here down. */
  worst = 0

  constructor(edge: string, parent: PrefixNode<V> | null) {
    this.edge = edge
    this.parent = parent
  }
}

/** Prefixes with values and costs; see the module comment. */
export class PrefixTree<V> {
  readonly #root = new PrefixNode<V>('', null)
  #size = 0

  /** How many prefixes hold a value. */
  get size(): number {
    return this.#size
  }

  /**
   * The largest sum of costs over prefixes of one string: what one walk of
   * {@link forEachPrefixOf} meets at most, whatever the string.
   */
  get worst(): number {
    return this.#root.worst
  }

  /** The value held for exactly `prefix`. */
  get(prefix: string): V | undefined {
    return this.#find(prefix)?.value
  }

  /** The cost held for exactly `prefix` (`0` when none is held). */
  costOf(prefix: string): number {
    return this.#find(prefix)?.cost ?? 0
  }

  /** Holds `value` with `cost` (a non-negative number) for `prefix`, replacing what it held. */
  set(prefix: string, value: V, cost: number): void {
    const node = this.#insert(prefix)
    if (node.value === undefined) this.#size++
    node.value = value
    this.#setCost(node, cost)
  }

  /** Drops the value and cost of `prefix`. @returns whether it held one. */
  delete(prefix: string): boolean {
    const node = this.#find(prefix)
    if (node === null || node.value === undefined) return false
    node.value = undefined
    this.#size--
    this.#setCost(node, 0)
    this.#prune(node)
    return true
  }

  /**
   * Calls `visit` with the value of every prefix of `text` held in the tree, shortest first
   * (the empty prefix included, when held).
   */
  forEachPrefixOf(text: string, visit: (value: V) => void): void {
    let node = this.#root
    let at = 0
    for (;;) {
      if (node.value !== undefined) visit(node.value)
      const child = node.children?.get(text.charCodeAt(at))
      if (child === undefined || !text.startsWith(child.edge, at)) return
      at += child.edge.length
      node = child
    }
  }

  #find(prefix: string): PrefixNode<V> | null {
    let node = this.#root
    let at = 0
    while (at < prefix.length) {
      const child = node.children?.get(prefix.charCodeAt(at))
      if (child === undefined || !prefix.startsWith(child.edge, at)) return null
      at += child.edge.length
      node = child
    }
    return node
  }

  /** The node of `prefix`, created (splitting an edge if need be) when missing. */
  #insert(prefix: string): PrefixNode<V> {
    let node = this.#root
    let at = 0
    while (at < prefix.length) {
      const first = prefix.charCodeAt(at)
      const child = node.children?.get(first)
      if (child === undefined) {
        const leaf = new PrefixNode<V>(prefix.slice(at), node)
        node.children ??= new Map()
        node.children.set(first, leaf)
        return leaf
      }
      const { edge } = child
      let common = 1
      while (common < edge.length && edge.charCodeAt(common) === prefix.charCodeAt(at + common)) {
        common++
      }
      if (common < edge.length) {
        // Split the edge: a node for the shared part, holding nothing, the child below it.
        const middle = new PrefixNode<V>(edge.slice(0, common), node)
        middle.children = new Map([[edge.charCodeAt(common), child]])
        middle.below = child.worst
        middle.worst = child.worst
        child.edge = edge.slice(common)
        child.parent = middle
        ;(node.children as Map<number, PrefixNode<V>>).set(first, middle)
        node = middle
      } else {
        node = child
      }
      at += common
    }
    return node
  }

  /**
   * Sets a node's cost and carries the change of its `worst` up: in O(1) a level when it grows,
   * and when it shrinks too unless it was the largest of its siblings (then they are scanned, and
   * the scan stops at the first one as large as it was).
   */
  #setCost(node: PrefixNode<V>, cost: number): void {
    node.cost = cost
    let child = node
    let old = node.worst
    child.worst = cost + node.below
    while (child.parent !== null && child.worst !== old) {
      const parent: PrefixNode<V> = child.parent
      const before = parent.worst
      if (child.worst > parent.below) parent.below = child.worst
      else if (old === parent.below) parent.below = largestChild(parent, old)
      parent.worst = parent.cost + parent.below
      child = parent
      old = before
    }
  }

  /** Removes nodes that hold nothing and lead nowhere, and merges those that lead one way only. */
  #prune(start: PrefixNode<V>): void {
    let node = start
    while (node.parent !== null && node.value === undefined) {
      const { parent, children } = node
      const count = children?.size ?? 0
      if (count > 1) return
      const first = node.edge.charCodeAt(0)
      if (count === 0) {
        parent.children?.delete(first)
        if (parent.children?.size === 0) parent.children = null
        node = parent
        continue
      }
      // One child: it takes this node's place, its edge lengthened by this node's.
      const only = (children as Map<number, PrefixNode<V>>).values().next().value as PrefixNode<V>
      only.edge = node.edge + only.edge
      only.parent = parent
      ;(parent.children as Map<number, PrefixNode<V>>).set(first, only)
      return
    }
  }
}

/** The largest `worst` among `node`'s children; none is above `bound`, so one equal to it ends the scan. */
function largestChild<V>(node: PrefixNode<V>, bound: number): number {
  let largest = 0
  if (node.children === null) return largest
  for (const child of node.children.values()) {
    if (child.worst >= bound) return child.worst
    if (child.worst > largest) largest = child.worst
  }
  return largest
}

import { createSelectorMatcher, type SelectorMatcher } from './topic-selector.ts'
import type { UriTemplate } from './uri-template.ts'

/** Options for a {@link SubscriptionIndex}. */
export interface SubscriptionIndexOptions {
  /**
   * Compiles template selectors. Pass the hub's own, so that the index and the authorization
   * checks share one template cache. Defaults to a new `createSelectorMatcher()`.
   */
  matcher?: SelectorMatcher
}

/**
 * The items of an exact selector held by several items. A selector held by one item (a topic per
 * subscriber is common) maps to the item itself: a `Set` of one costs about 150 bytes.
 */
class ExactGroup<T> {
  readonly items = new Set<T>()
}

/** The items of one template selector, with the template compiled once for all of them. */
interface TemplateGroup<T> {
  readonly selector: string
  readonly template: UriTemplate
  readonly items: Set<T>
}

/**
 * Which items (subscribers) want an update, found without scanning every item: by topic
 * selector (Mercure draft-07 §Topic selectors), items subscribed with
 *
 * - `*` sit in one set, matched by every update;
 * - an exact selector (one that is not a valid template) sit in a map from selector to items
 *   (or to the item, when it is the only one), looked up once per topic;
 * - a template selector sit in a map from selector to items, and each distinct template is
 *   tested once per topic, however many items share it.
 *
 * So an update costs O(topics × distinct templates + items matched), not O(items). An item may
 * hold several selectors; it counts and is visited once.
 */
export class SubscriptionIndex<T extends NonNullable<unknown>> {
  readonly #matcher: SelectorMatcher
  readonly #wildcard = new Set<T>()
  readonly #exact = new Map<string, T | ExactGroup<T>>()
  readonly #templates = new Map<string, TemplateGroup<T>>()
  /** How many selectors each item holds here. */
  readonly #selectorCounts = new Map<T, number>()

  constructor(options: SubscriptionIndexOptions = {}) {
    this.#matcher = options.matcher ?? createSelectorMatcher()
  }

  /** The number of distinct items, whatever the number of selectors each holds. */
  get size(): number {
    return this.#selectorCounts.size
  }

  /** The number of distinct selectors that have at least one item. */
  get selectorCount(): number {
    return this.#exact.size + this.#templates.size + (this.#wildcard.size > 0 ? 1 : 0)
  }

  /**
   * Subscribes `item` with `selector`. Compiles a template selector once, on its first item.
   *
   * @returns `false` when `item` already held `selector` (nothing changes).
   */
  add(selector: string, item: T): boolean {
    const entry = this.#exact.get(selector)
    if (entry instanceof ExactGroup) {
      if (entry.items.has(item)) return false
      entry.items.add(item)
    } else if (entry !== undefined) {
      if (entry === item) return false
      const group = new ExactGroup<T>()
      group.items.add(entry).add(item)
      this.#exact.set(selector, group)
    } else {
      const items = this.#items(selector) ?? this.#createGroup(selector, item)
      if (items !== null) {
        if (items.has(item)) return false
        items.add(item)
      }
    }
    this.#selectorCounts.set(item, (this.#selectorCounts.get(item) ?? 0) + 1)
    return true
  }

  /**
   * Unsubscribes `item` from `selector`; a selector's entry is freed with its last item.
   *
   * @returns `false` when `item` did not hold `selector`.
   */
  delete(selector: string, item: T): boolean {
    const entry = this.#exact.get(selector)
    if (entry instanceof ExactGroup) {
      if (!entry.items.delete(item)) return false
      if (entry.items.size === 1) this.#exact.set(selector, entry.items.values().next().value as T)
    } else if (entry !== undefined) {
      if (entry !== item) return false
      this.#exact.delete(selector)
    } else {
      const items = this.#items(selector)
      if (items === undefined || !items.delete(item)) return false
      if (items.size === 0) this.#templates.delete(selector)
    }
    const count = this.#selectorCounts.get(item) ?? 1
    if (count > 1) this.#selectorCounts.set(item, count - 1)
    else this.#selectorCounts.delete(item)
    return true
  }

  /**
   * Calls `visit` once for each item that has a selector matching one of `topics` (an update's
   * canonical and alternate topics), however many of its selectors match however many topics.
   * The items are collected first, then visited: `visit` may change the index, and the items
   * visited are still those that matched when the call began.
   */
  match(topics: readonly string[], visit: (item: T) => void): void {
    const groups: Iterable<T>[] = []
    // Distinct topics find distinct exact entries, so no entry is collected twice.
    const distinct = topics.length > 1 ? [...new Set(topics)] : topics
    for (const topic of distinct) {
      const entry = this.#exact.get(topic)
      if (entry instanceof ExactGroup) groups.push(entry.items)
      else if (entry !== undefined) groups.push([entry])
    }
    for (const group of this.#templates.values()) {
      if (matchesAny(group, distinct)) groups.push(group.items)
    }
    // The common case, one entry and no `*` item (a fan-out to one topic): every item is found
    // once, with no bookkeeping per item.
    if (groups.length === 1 && this.#wildcard.size === 0) {
      for (const item of [...(groups[0] as Iterable<T>)]) visit(item)
      return
    }
    // Every `*` item is found once; an item with one selector is in one entry only; so only the
    // other items with several selectors need checking against those found before.
    const found = [...this.#wildcard]
    let seen: Set<T> | undefined
    for (const items of groups) {
      for (const item of items) {
        if ((this.#selectorCounts.get(item) as number) > 1) {
          if (this.#wildcard.has(item) || seen?.has(item)) continue
          seen ??= new Set()
          seen.add(item)
        }
        found.push(item)
      }
    }
    for (const item of found) visit(item)
  }

  /** The items of `*` or of a template selector already held. */
  #items(selector: string): Set<T> | undefined {
    if (selector === '*') return this.#wildcard
    return this.#templates.get(selector)?.items
  }

  /**
   * Creates the entry of a selector not held yet: an exact selector maps to `item` itself (and
   * `null` is returned: nothing left to add); a template gets a group, returned empty.
   */
  #createGroup(selector: string, item: T): Set<T> | null {
    const template = this.#matcher.template(selector)
    if (template === null) {
      this.#exact.set(selector, item)
      return null
    }
    const items = new Set<T>()
    this.#templates.set(selector, { selector, template, items })
    return items
  }
}

/** Whether a template selector matches one of `topics`. */
function matchesAny({ selector, template }: TemplateGroup<unknown>, topics: readonly string[]) {
  for (const topic of topics) {
    // [spec] A selector equal to the topic matches it, even when the template does not.
    if (topic === selector || template.matches(topic)) return true
  }
  return false
}

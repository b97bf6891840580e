import { PrefixTree } from './prefix-tree.ts'
import { type TemplateBudgetExcess, templateCost } from './template-budget.ts'
import {
  type CompiledSelector,
  createSelectorMatcher,
  type SelectorMatcher,
} from './topic-selector.ts'
import { urlKey } from './url-pattern.ts'

/** Options for a {@link SubscriptionIndex}. */
export interface SubscriptionIndexOptions {
  /**
   * Compiles template selectors. Pass the hub's own, so that the index and the authorization
   * checks share one template cache. Defaults to a new `createSelectorMatcher()`.
   */
  matcher?: SelectorMatcher
  /**
   * Bound for {@link SubscriptionIndex.admit}: the most template cost (automaton states plus
   * `TEMPLATE_BASE_COST` each, see `template-budget.ts`) one topic may be tested against: the
   * summed costs of the distinct templates whose literal prefixes are prefixes of one topic.
   * `null` for none. Defaults to `null`.
   */
  maxTemplateWork?: number | null
  /**
   * Bound for {@link SubscriptionIndex.admit}: the most summed cost of all distinct templates
   * held. `null` for none. Defaults to `null`.
   */
  maxTemplateStates?: number | null
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
  readonly template: CompiledSelector
  readonly items: Set<T>
  readonly cost: number
  /** The `match` call that last found it matching (its items are collected once per call). */
  matched: number
}

/** The template groups whose templates share one literal prefix. */
type TemplateBucket<T> = Set<TemplateGroup<T>>

/**
 * Which items (subscribers) want an update, found without scanning every item: by topic
 * selector (Mercure draft-07 §Topic selectors), items subscribed with
 *
 * - `*` sit in one set, matched by every update;
 * - an exact selector (one that is not a valid template) sit in a map from selector to items
 *   (or to the item, when it is the only one), looked up once per topic;
 * - a template selector sit in a map from selector to items, and each distinct template is
 *   tested once per topic, however many items share it; the templates are also held in a tree of
 *   their literal prefixes (`https://example.com/books/` for `https://example.com/books/{id}`), so
 *   a topic only meets those whose prefix it starts with.
 *
 * So an update costs O(topics × (topic length + templates met) + items matched), not O(items).
 * An item may hold several selectors; it counts and is visited once. The tree also keeps the most
 * template cost one topic can meet, which {@link SubscriptionIndex.admit} bounds.
 */
export class SubscriptionIndex<T extends NonNullable<unknown>> {
  readonly #matcher: SelectorMatcher
  readonly #wildcard = new Set<T>()
  readonly #exact = new Map<string, T | ExactGroup<T>>()
  readonly #templates = new Map<string, TemplateGroup<T>>()
  /** The template groups by literal prefix, each bucket costing its groups' costs together. */
  readonly #prefixes = new PrefixTree<TemplateBucket<T>>()
  /**
   * Mercure 1.0 URL patterns, one tree per hub URL they resolve against (one, unless the hub is
   * reached at several origins with no pinned identifier), by the prefix of the resolved topic's
   * key (see `UrlPattern.keyPrefix`): a topic is resolved once per tree, and meets only the
   * patterns that fix what it starts with, as templates do.
   */
  readonly #patternTrees = new Map<string, PrefixTree<TemplateBucket<T>>>()
  /** The summed cost of the distinct templates held. */
  #templateStates = 0
  readonly #maxTemplateWork: number | null
  readonly #maxTemplateStates: number | null
  /** How many selectors each item holds here. */
  readonly #selectorCounts = new Map<T, number>()
  /** Counts `match` calls, to mark the template groups found in each. */
  #matchCalls = 0

  constructor(options: SubscriptionIndexOptions = {}) {
    this.#matcher = options.matcher ?? createSelectorMatcher()
    this.#maxTemplateWork = options.maxTemplateWork ?? null
    this.#maxTemplateStates = options.maxTemplateStates ?? null
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
   * The most template cost one topic meets (automaton states plus `TEMPLATE_BASE_COST` per
   * distinct template): the summed costs of the templates whose prefixes are prefixes of it, for
   * the topic that meets most.
   */
  get templateWork(): number {
    let work = this.#prefixes.worst
    for (const tree of this.#patternTrees.values()) work += tree.worst
    return work
  }

  /** The tree holding `template`'s prefix (made when `create`), or `undefined`. */
  #treeOf(template: CompiledSelector, create: boolean): PrefixTree<TemplateBucket<T>> | undefined {
    if (template.base === undefined) return this.#prefixes
    let tree = this.#patternTrees.get(template.base)
    if (tree === undefined && create) {
      tree = new PrefixTree()
      this.#patternTrees.set(template.base, tree)
    }
    return tree
  }

  /** The summed cost of the distinct templates held. */
  get templateStates(): number {
    return this.#templateStates
  }

  /**
   * Whether items with `selectors` fit within the template budgets (`maxTemplateWork`,
   * `maxTemplateStates`): only templates not held yet cost anything. The check is synchronous,
   * so an `add` of these selectors in the same synchronous step stays within them.
   *
   * @returns The budget they would pass, or `null` when they fit.
   */
  admit(selectors: readonly string[]): TemplateBudgetExcess | null {
    const maxWork = this.#maxTemplateWork
    const maxStates = this.#maxTemplateStates
    if (maxWork === null && maxStates === null) return null
    // Most subscriptions bring no template the index lacks (exact topics, `*`, templates held
    // already): they cost nothing, and are admitted without the bookkeeping below.
    let fresh = false
    for (const selector of selectors) {
      if (this.#isNewTemplate(selector)) {
        fresh = true
        break
      }
    }
    if (!fresh) return null
    // The new templates' costs are added to the trees for the check, then taken back.
    const added = new Map<
      string,
      {
        tree: PrefixTree<TemplateBucket<T>>
        prefix: string
        bucket: TemplateBucket<T> | null
        cost: number
      }
    >()
    const treesBefore = this.#patternTrees.size
    let states = this.#templateStates
    for (const selector of new Set(selectors)) {
      if (selector === '*' || this.#exact.has(selector) || this.#templates.has(selector)) continue
      const template = this.#matcher.template(selector)
      if (template === null) continue
      const cost = templateCost(template)
      states += cost
      const { prefix } = template
      const tree = this.#treeOf(template, true) as PrefixTree<TemplateBucket<T>>
      const key = `${template.base ?? ''}\u0000${prefix}`
      const before = added.get(key) ?? {
        tree,
        prefix,
        bucket: tree.get(prefix) ?? null,
        cost: tree.costOf(prefix),
      }
      added.set(key, before)
      tree.set(prefix, before.bucket ?? new Set(), tree.costOf(prefix) + cost)
    }
    if (added.size === 0) return null
    const work = this.templateWork
    for (const { tree, prefix, bucket, cost } of added.values()) {
      if (bucket === null) tree.delete(prefix)
      else tree.set(prefix, bucket, cost)
    }
    // Trees made for the check only are dropped again.
    if (this.#patternTrees.size > treesBefore) {
      for (const [base, tree] of this.#patternTrees) {
        if (tree.size === 0) this.#patternTrees.delete(base)
      }
    }
    if (maxWork !== null && work > maxWork) return { budget: 'work', needed: work, limit: maxWork }
    if (maxStates !== null && states > maxStates) {
      return { budget: 'states', needed: states, limit: maxStates }
    }
    return null
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
    } else if (selector === '*') {
      if (!this.#wildcard.delete(item)) return false
    } else {
      const group = this.#templates.get(selector)
      if (group === undefined || !group.items.delete(item)) return false
      if (group.items.size === 0) this.#deleteGroup(group)
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
    if (this.#templates.size > 0) {
      const call = ++this.#matchCalls
      for (const [base, tree] of this.#patternTrees) {
        for (const topic of distinct) {
          // [spec] draft-08: a topic that does not parse as a URL reference matches no pattern.
          let url: URL
          try {
            url = new URL(topic, base)
          } catch {
            continue
          }
          tree.forEachPrefixOf(urlKey(url), (bucket) => {
            for (const group of bucket) {
              if (group.matched === call) continue
              if ((group.template.matchesUrl as (url: URL) => boolean)(url)) {
                group.matched = call
                groups.push(group.items)
              }
            }
          })
        }
      }
      for (const topic of distinct) {
        this.#prefixes.forEachPrefixOf(topic, (bucket) => {
          for (const group of bucket) {
            // [spec] A selector equal to the topic matches it, even when the template does not.
            if (group.matched === call) continue
            if (topic === group.selector || group.template.matches(topic)) {
              group.matched = call
              groups.push(group.items)
            }
          }
        })
      }
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

  /** Whether `selector` is a template no item holds yet. */
  #isNewTemplate(selector: string): boolean {
    if (selector === '*' || this.#exact.has(selector) || this.#templates.has(selector)) return false
    return this.#matcher.template(selector) !== null
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
    const group: TemplateGroup<T> = {
      selector,
      template,
      items,
      cost: templateCost(template),
      matched: 0,
    }
    this.#templates.set(selector, group)
    const { prefix } = template
    const tree = this.#treeOf(template, true) as PrefixTree<TemplateBucket<T>>
    const bucket = tree.get(prefix) ?? new Set()
    bucket.add(group)
    tree.set(prefix, bucket, tree.costOf(prefix) + group.cost)
    this.#templateStates += group.cost
    return items
  }

  /** Frees a template group whose last item left. */
  #deleteGroup(group: TemplateGroup<T>): void {
    this.#templates.delete(group.selector)
    this.#templateStates -= group.cost
    const { prefix } = group.template
    const tree = this.#treeOf(group.template, false)
    const bucket = tree?.get(prefix)
    if (tree === undefined || bucket === undefined) return
    bucket.delete(group)
    if (bucket.size === 0) tree.delete(prefix)
    else tree.set(prefix, bucket, tree.costOf(prefix) - group.cost)
    if (tree.size === 0 && group.template.base !== undefined) {
      this.#patternTrees.delete(group.template.base)
    }
  }
}

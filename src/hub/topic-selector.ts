import { describeSelector, EXACT_MARK, URL_PATTERN_MARK } from './mercure-matcher.ts'
import { compileUriTemplate, type UriTemplate } from './uri-template.ts'
import { compileUrlPattern } from './url-pattern.ts'

/** Longest topic selector the hub accepts, in UTF-16 code units: longer ones get a 400. */
export const MAX_SELECTOR_LENGTH = 2048

/**
 * Checks a topic selector taken from a request (a `topic` query parameter, or a selector in a
 * token's claims), for the hub to answer 400 to a bad one.
 *
 * @returns What is wrong, as a message that never quotes the selector; `null` when it is fine.
 */
export function checkSelector(selector: string): string | null {
  if (selector.length > MAX_SELECTOR_LENGTH) {
    return `A topic selector is longer than ${MAX_SELECTOR_LENGTH} characters.`
  }
  for (let i = 0; i < selector.length; i++) {
    const c = selector.charCodeAt(i)
    // C0, DEL and C1 controls are in no IRI [RFC 3987 §2.2]; and a CR or LF in a selector that is
    // logged or echoed in a subscription event would let a client forge lines (CWE-117).
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      return 'A topic selector contains a control character.'
    }
  }
  return null
}

/**
 * Most automaton states the URI Template selectors of one subscription may compile to together.
 * Each distinct template is tested against the topics of every update published, so a
 * subscription's templates are CPU spent on every publish: without a bound, one connection with
 * 1000 selectors of 512 states (`MAX_TEMPLATE_STATES`) would add half a million states to every
 * update's work. 32768 lets 1000 ordinary templates through (`https://example.com/books/{id}`
 * takes 12 states, `https://example.com/users/{id}/{?topic}` 32) or 64 of the largest.
 */
export const MAX_SUBSCRIPTION_TEMPLATE_STATES = 32_768

/**
 * Checks that the templates among one subscription's selectors stay within
 * {@link MAX_SUBSCRIPTION_TEMPLATE_STATES} together (a selector given twice counts once).
 *
 * @returns Why not, as a message for a 400 that quotes no selector; `null` when they do.
 */
export function checkTemplateBudget(
  selectors: readonly string[],
  matcher: SelectorMatcher,
): string | null {
  let states = 0
  // A set only once a template shows up: most subscriptions hold none, and allocate nothing here.
  let counted: Set<string> | undefined
  for (const selector of selectors) {
    const template = matcher.template(selector)
    if (template === null) continue
    counted ??= new Set()
    if (counted.has(selector)) continue
    counted.add(selector)
    states += template.stateCount
  }
  if (states <= MAX_SUBSCRIPTION_TEMPLATE_STATES) return null
  return (
    `The URI templates among the topic selectors need ${states} automaton states together, ` +
    `more than ${MAX_SUBSCRIPTION_TEMPLATE_STATES}: subscribe with fewer or simpler templates.`
  )
}

/**
 * Template states × topic characters from which a (template, topic) answer is cached: a bound on
 * the steps a match may take (with every state active at once, about 20 ns each).
 */
export const CACHED_MATCH_WORK = 16_384

/** Options for {@link createSelectorMatcher}. */
export interface SelectorMatcherOptions {
  /**
   * How many compiled templates, and how many (template, topic) answers, to keep: two caches that
   * drop their least recently used entries past this count, or past `64 × cacheSize` automaton
   * states (templates) or `256 × cacheSize` characters of selector and topic (answers), whichever
   * comes first. So a client sending endless distinct selectors, small or as large as allowed,
   * cannot grow memory without limit. Answers are kept only for pairs that may be slow to match
   * (see {@link CACHED_MATCH_WORK}). `0` turns both caches off. Defaults to `10000`.
   */
  cacheSize?: number
}

/** How full the caches of a {@link SelectorMatcher} are. */
export interface SelectorCacheStats {
  /** Selectors held in the template cache (compiled, or known not to be templates). */
  templates: number
  /** Automaton states of the compiled templates held. */
  templateStates: number
  /** (template, topic) answers held. */
  results: number
  /** Characters of selector and topic held as keys of those answers. */
  resultChars: number
  /** The most entries each cache holds: `cacheSize`. */
  capacity: number
}

/** Matches topics against topic selectors, caching compiled templates and answers. */
export interface SelectorMatcher {
  /**
   * Whether `selector` matches `topic`. [spec] Mercure draft-07, in this order: the selector `*`
   * matches every topic; a selector equal to the topic matches it (so a template also matches an
   * identical template); a selector that is a URI Template (it contains `{`, as the reference hub
   * requires, and is valid: see {@link SelectorMatcher.template}) matches the topics it could
   * expand to; nothing else matches. A Mercure 1.0 matcher written as a selector (see
   * `mercure-matcher.ts`) matches as its type says. A function that needs no `this`: pass it
   * around as is.
   */
  matches(selector: string, topic: string): boolean
  /**
   * The selector compiled as a URI Template, or `null` when it is not one: no `{`, longer than
   * {@link MAX_SELECTOR_LENGTH}, invalid per RFC 6570, or too complex for `compileUriTemplate`.
   * Such a selector matches by string equality only (and `*`, everything). A Mercure 1.0
   * selector (an exact value with `{`, or a URL pattern) comes back in the same shape, so the
   * index and the budgets treat it as a template: see `compileMarked`.
   */
  template(selector: string): CompiledSelector | null
  /** The caches' current size, for metrics and tests. */
  cacheStats(): SelectorCacheStats
}

/**
 * Creates a {@link SelectorMatcher}.
 *
 * @throws {RangeError} when `cacheSize` is not a non-negative integer.
 */
export function createSelectorMatcher(options: SelectorMatcherOptions = {}): SelectorMatcher {
  const capacity = options.cacheSize ?? 10_000
  if (!Number.isSafeInteger(capacity) || capacity < 0) {
    throw new RangeError(`cacheSize must be a non-negative integer (0 turns caching off).`)
  }
  // Each entry also weighs a fixed overhead, so the weight bound never lets tiny entries past the
  // count bound, and one entry heavier than a whole cache is simply not kept.
  const templates = new LruCache<CompiledSelector | null>(capacity, 64 * capacity)
  const results = new LruCache<boolean>(capacity, 256 * capacity)

  const template = (selector: string): CompiledSelector | null => {
    const first = selector.charAt(0)
    const marked = first === EXACT_MARK || first === URL_PATTERN_MARK
    if (!marked && (!selector.includes('{') || selector.length > MAX_SELECTOR_LENGTH)) return null
    const cached = templates.get(selector)
    if (cached !== undefined) return cached
    const result = marked ? compileMarked(selector) : compileTemplate(selector)
    templates.set(selector, result, 32 + (result?.stateCount ?? 0), result?.stateCount ?? 0)
    return result
  }

  const matches = (selector: string, topic: string): boolean => {
    if (selector === '*' || selector === topic) return true
    const compiled = template(selector)
    if (compiled === null) return false
    // An answer costs about a microsecond to look up (a key to build and hash, an LRU entry to
    // move) and a match usually less (a few nanoseconds per character): keep only the answers of
    // pairs whose match may be slow, a large template against a long topic.
    if (compiled.stateCount * topic.length < CACHED_MATCH_WORK) return compiled.matches(topic)
    // The length prefix makes the key unambiguous: no (selector, topic) pair shares it.
    const key = `${selector.length}:${selector}${topic}`
    const cached = results.get(key)
    if (cached !== undefined) return cached
    const result = compiled.matches(topic)
    results.set(key, result, 32 + key.length, key.length)
    return result
  }

  return {
    matches,
    template,
    cacheStats: () => ({
      templates: templates.size,
      templateStates: templates.measure,
      results: results.size,
      resultChars: results.measure,
      capacity,
    }),
  }
}

function compileTemplate(selector: string): UriTemplate | null {
  const compiled = compileUriTemplate(selector)
  return compiled.ok ? compiled.value : null
}

/**
 * A Mercure 1.0 selector (see `mercure-matcher.ts`) as what the index and the caches hold for a
 * template: an exact value with `{` is a literal prefix that must equal the whole topic; a URL
 * pattern has no literal prefix (a topic is resolved against the hub URL before it is matched,
 * so its text need not start with the pattern's), so every topic meets it, and its states count
 * against the same budgets as a template's. `null` for a pattern that does not compile (the
 * request that sent it was refused with a 400; a token's was refused as invalid).
 */
function compileMarked(selector: string): CompiledSelector | null {
  const parts = describeSelector(selector)
  if (parts.type === 'exact') {
    const value = parts.match
    return { template: selector, stateCount: 0, prefix: value, matches: (uri) => uri === value }
  }
  const base = parts.hubUrl ?? ''
  const compiled = compileUrlPattern(parts.match, base)
  if (!compiled.ok) return null
  const pattern = compiled.value
  return {
    template: selector,
    stateCount: pattern.stateCount,
    prefix: pattern.keyPrefix,
    base,
    matches: (uri) => pattern.matches(uri),
    matchesUrl: (url) => pattern.matchesUrl(url),
  }
}

/**
 * A selector compiled: a URI Template, or a Mercure 1.0 selector in the same shape (see
 * `compileMarked`). A URL pattern also has the `base` its topics resolve against; its `prefix` is
 * then one of the resolved topic's key (`urlKey`), not of the topic's text.
 */
export interface CompiledSelector extends UriTemplate {
  /** The hub URL a URL pattern's topics resolve against. */
  readonly base?: string
  /** A URL pattern's test of a topic already resolved against {@link base}. */
  matchesUrl?(url: URL): boolean
}

/**
 * A map that drops its least recently used entries past `maxEntries` entries or `maxWeight`
 * total weight. A `Map` iterates in insertion order, so re-inserting on each hit keeps the least
 * recently used entry first.
 */
class LruCache<V> {
  readonly #entries = new Map<string, { value: V; weight: number; measure: number }>()
  readonly #maxEntries: number
  readonly #maxWeight: number
  #weight = 0
  /** The sum of the entries' `measure`s (what the weights stand for, for stats). */
  measure = 0

  constructor(maxEntries: number, maxWeight: number) {
    this.#maxEntries = maxEntries
    this.#maxWeight = maxWeight
  }

  get size(): number {
    return this.#entries.size
  }

  get(key: string): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    this.#entries.delete(key)
    this.#entries.set(key, entry)
    return entry.value
  }

  set(key: string, value: V, weight: number, measure: number): void {
    if (this.#maxEntries === 0 || weight > this.#maxWeight) return
    this.#remove(key)
    this.#entries.set(key, { value, weight, measure })
    this.#weight += weight
    this.measure += measure
    for (const oldest of this.#entries.keys()) {
      if (this.#entries.size <= this.#maxEntries && this.#weight <= this.#maxWeight) break
      this.#remove(oldest)
    }
  }

  #remove(key: string): void {
    const entry = this.#entries.get(key)
    if (entry === undefined) return
    this.#entries.delete(key)
    this.#weight -= entry.weight
    this.measure -= entry.measure
  }
}

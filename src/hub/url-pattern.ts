/**
 * WHATWG URL Pattern matching for Mercure 1.0 `match_urlpattern` selectors, in linear time.
 *
 * [spec] Mercure 1.0: "A relative pattern or a relative topic MUST be resolved against the hub
 * URL"; "The `ignoreCase` option MUST NOT be enabled"; "A topic that does not parse as a URL
 * reference against the hub URL MUST be treated as not matching"; and (DoS) the hub "MUST use a
 * linear-time regex engine (RE2-like) or enforce a cost or time limit". Here both hold: each
 * component compiles to a Thompson NFA (`pattern-automaton.ts`) simulated without backtracking,
 * and every step is counted against a {@link MatchBudget}.
 *
 * The bound: a pattern has at most {@link MAX_URL_PATTERN_STATES} states in all; a match costs at
 * most Σ over components of (component length × (its states + its moves)) steps, at most
 * `topic length × stepsPerCharacter` (see {@link UrlPattern.stepsPerCharacter}), and never more
 * than the budget it is given (by default {@link DEFAULT_MATCH_STEPS}).
 *
 * Not wired into subscriptions yet. Nothing here is exported from the `ssehub/hub` entry.
 *
 * @module
 */

import { accepted, type Checked, refused } from './checked.ts'
import {
  AutomatonTooLargeError,
  complement,
  type MatchBudget,
  Nfa,
  NfaBuilder,
  range,
  union,
} from './pattern-automaton.ts'
import {
  DOT,
  emitRegexp,
  emitRepeat,
  parseRegexp,
  UnsupportedRegexpError,
} from './pattern-regexp.ts'
import {
  COMPONENTS,
  type Component,
  type PatternInit,
  parseConstructorString,
} from './url-pattern-constructor.ts'
import {
  escapePattern,
  type Modifier,
  type Part,
  type PatternOptions,
  PatternSyntaxError,
  parsePatternString,
} from './url-pattern-syntax.ts'

/** Longest pattern, in UTF-16 code units, that {@link compileUrlPattern} accepts. */
export const MAX_URL_PATTERN_LENGTH = 2048

/** Most automaton states a pattern's eight components may compile to together (ReDoS guard). */
export const MAX_URL_PATTERN_STATES = 2048

/** The steps one match may take when no budget is given: 2^18, a few milliseconds at worst. */
export const DEFAULT_MATCH_STEPS = 262_144

/** A compiled URL Pattern. */
export interface UrlPattern {
  /** The pattern text, as given. */
  readonly pattern: string
  /** Its components' pattern strings, after resolution against the base URL. */
  readonly components: Readonly<Record<Component, string>>
  /** Its automata's states, at most {@link MAX_URL_PATTERN_STATES}. */
  readonly stateCount: number
  /**
   * The most steps one character of a topic may cost: the largest (states + moves) of a component.
   * A match costs at most `topic length × stepsPerCharacter` steps (plus the URL parse).
   */
  readonly stepsPerCharacter: number
  /**
   * Whether `topic`, resolved against the base URL, matches. A topic that is not a URL does not.
   * Spends from `budget` (defaults to a fresh {@link DEFAULT_MATCH_STEPS}); when it runs out the
   * answer is `false` and `budget.exhausted` is set.
   */
  matches(topic: string, budget?: MatchBudget): boolean
  /** {@link matches} for a topic already resolved against the base URL. */
  matchesUrl(url: URL, budget?: MatchBudget): boolean
  /**
   * What the {@link urlKey} of every URL it matches starts with: scheme, host and port when the
   * pattern fixes each, then the fixed start of its path (`https://example.com:/books/` for
   * `https://example.com/books/:id`); `''` when it fixes no scheme, host or port. An index of
   * these prefixes meets a topic only with the patterns it could match, as templates' literal
   * prefixes do.
   */
  readonly keyPrefix: string
}

/**
 * The key of a resolved topic that {@link UrlPattern.keyPrefix} is a prefix of, for each pattern
 * that matches it: `<scheme>://<host>:<port><path>`, from the parsed URL's canonical components
 * (lower-case host, default port empty, percent-encoded path), as the automata see them.
 */
export function urlKey(url: URL): string {
  return `${url.protocol.slice(0, -1)}://${url.hostname}:${url.port}${url.pathname}`
}

/** The text a component's parts match when they are fixed text only; `null` otherwise. */
function fixedText(parts: readonly Part[]): string | null {
  let text = ''
  for (const part of parts) {
    if (part.type !== 'fixed-text' || part.modifier !== '') return null
    text += part.value
  }
  return text
}

/** The fixed text the parts start with, up to the first that is not fixed. */
function leadingText(parts: readonly Part[]): string {
  let text = ''
  for (const part of parts) {
    if (part.type !== 'fixed-text' || part.modifier !== '') break
    text += part.value
  }
  return text
}

const SPECIAL_SCHEMES = ['ftp', 'file', 'http', 'https', 'ws', 'wss'] as const
const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  ftp: '21',
  http: '80',
  https: '443',
  ws: '80',
  wss: '443',
}

/**
 * Compiles a URL Pattern constructor string, resolved against `baseUrl` (the hub URL).
 *
 * @returns The pattern, or why it is refused (a message for a 400 that quotes nothing): a syntax
 *   error, an invalid base URL, a group regular expression outside the supported subset (see
 *   `pattern-regexp.ts`), more than {@link MAX_URL_PATTERN_LENGTH} characters or
 *   {@link MAX_URL_PATTERN_STATES} states.
 */
export function compileUrlPattern(pattern: string, baseUrl: string): Checked<UrlPattern> {
  if (pattern.length > MAX_URL_PATTERN_LENGTH) {
    return refused(`A URL pattern is longer than ${MAX_URL_PATTERN_LENGTH} characters.`)
  }
  let base: URL
  try {
    base = new URL(baseUrl)
  } catch {
    return refused('The base URL of URL patterns is not a URL.')
  }
  try {
    return accepted(new CompiledPattern(pattern, base))
  } catch (error) {
    if (error instanceof PatternSyntaxError || error instanceof UnsupportedRegexpError) {
      return refused(error.message)
    }
    if (error instanceof AutomatonTooLargeError) {
      return refused(`A URL pattern needs more than ${MAX_URL_PATTERN_STATES} automaton states.`)
    }
    throw error
  }
}

/** [spec] URL Pattern "process a URLPatternInit" for type "pattern", with a base URL. */
function resolveInit(init: PatternInit, base: URL): Record<Component, string> {
  const given = (...names: Component[]) => names.some((name) => init[name] !== undefined)
  const result: Partial<Record<Component, string>> = {}
  const inherit = (name: Component, value: string) => {
    result[name] = escapePattern(value)
  }
  if (!given('protocol')) inherit('protocol', base.protocol.slice(0, -1))
  // [spec] username and password are not inherited by patterns.
  if (!given('protocol', 'hostname')) inherit('hostname', base.hostname)
  if (!given('protocol', 'hostname', 'port')) inherit('port', base.port)
  if (!given('protocol', 'hostname', 'port', 'pathname')) inherit('pathname', base.pathname)
  if (!given('protocol', 'hostname', 'port', 'pathname', 'search')) {
    inherit('search', base.search.slice(1))
  }
  if (!given('protocol', 'hostname', 'port', 'pathname', 'search', 'hash')) {
    inherit('hash', base.hash.slice(1))
  }
  for (const name of COMPONENTS) {
    const value = init[name]
    if (value !== undefined) result[name] = value
  }
  if (init.protocol !== undefined) result.protocol = init.protocol.replace(/:$/, '')
  if (init.search !== undefined) result.search = init.search.replace(/^\?/, '')
  if (init.hash !== undefined) result.hash = init.hash.replace(/^#/, '')
  const path = init.pathname
  // [spec] "If … processedInit["pathname"] is not an absolute pathname", it is resolved against
  // the base URL's path, up to and including its last "/".
  if (path !== undefined && !/^(\/|\\\/|\{\/)/.test(path)) {
    const slash = base.pathname.lastIndexOf('/')
    if (slash >= 0) result.pathname = escapePattern(base.pathname.slice(0, slash + 1)) + path
  }
  // [spec] "For each component … if processedInit[component] does not exist, set it to "*"."
  for (const name of COMPONENTS) result[name] ??= '*'
  const components = result as Record<Component, string>
  if (DEFAULT_PORTS[components.protocol] === components.port) components.port = ''
  return components
}

const dummy = (): URL => new URL('http://dummy.invalid/')

/** [spec] the components' "encoding callbacks": fixed text as a URL parser would write it. */
const ENCODE: Readonly<Record<Exclude<Component, 'pathname'>, (text: string) => string>> = {
  protocol: (text) => {
    if (text === '') return text
    // Fixed text is a piece of a scheme (`{s}` in `http{s}?`), so it may start with any scheme
    // character, as in the reference; a topic's scheme always starts with a letter anyway.
    if (!/^[A-Za-z0-9+.-]*$/.test(text)) {
      throw new PatternSyntaxError('Invalid URL pattern: a bad protocol.')
    }
    return text.toLowerCase()
  },
  username: (text) => {
    const url = dummy()
    url.username = text
    return url.username
  },
  password: (text) => {
    const url = dummy()
    url.password = text
    return url.password
  },
  hostname: (text) => {
    if (text === '') return text
    // [spec] "If value contains a forbidden host code point, throw a TypeError."
    if (text.includes('\u0000') || /[\t\n\r #/:<>?@[\\\]^|%]/.test(text)) {
      throw new PatternSyntaxError('Invalid URL pattern: a bad hostname.')
    }
    const url = dummy()
    url.hostname = text
    return url.hostname
  },
  port: (text) => {
    if (text === '') return text
    if (!/^\d+$/.test(text) || Number(text) > 65535) {
      throw new PatternSyntaxError('Invalid URL pattern: a bad port.')
    }
    return String(Number(text))
  },
  search: (text) => {
    const url = dummy()
    url.search = `?${text}`
    return url.search.slice(1)
  },
  hash: (text) => {
    const url = dummy()
    url.hash = `#${text}`
    return url.hash.slice(1)
  },
}

/** [spec] "canonicalize a pathname", which resolves dot segments as a URL parser would. */
function encodePathname(text: string): string {
  if (text === '') return text
  const leading = text.startsWith('/')
  const url = dummy()
  url.pathname = leading ? text : `/-${text}`
  return leading ? url.pathname : url.pathname.slice(2)
}

/** [spec] "canonicalize an opaque pathname". */
function encodeOpaquePathname(text: string): string {
  if (text === '') return text
  return new URL(`data:${text}`).pathname
}

const DEFAULT_OPTIONS: PatternOptions = { delimiter: '', prefix: '' }
const HOSTNAME_OPTIONS: PatternOptions = { delimiter: '.', prefix: '' }
const PATHNAME_OPTIONS: PatternOptions = { delimiter: '/', prefix: '/' }
const BOUNDS: Readonly<Record<Modifier, readonly [number, number]>> = {
  '': [1, 1],
  '?': [0, 1],
  '*': [0, -1],
  '+': [1, -1],
}

class CompiledPattern implements UrlPattern {
  readonly pattern: string
  readonly keyPrefix: string
  readonly components: Readonly<Record<Component, string>>
  readonly stateCount: number
  readonly stepsPerCharacter: number
  readonly #base: URL
  readonly #automata: Readonly<Record<Component, Nfa>>

  constructor(pattern: string, base: URL) {
    this.pattern = pattern
    this.#base = base
    let room = MAX_URL_PATTERN_STATES
    const parsed = new Map<string, readonly Part[]>()
    const compile = (source: string, options: PatternOptions, encode: (text: string) => string) => {
      const parts = parsePatternString(source, options, encode)
      parsed.set(source, parts)
      const nfa = compileComponent(parts, options, room)
      room -= nfa.stateCount
      return nfa
    }
    const matchesSpecial = (nfa: Nfa) => {
      const budget = { remaining: DEFAULT_MATCH_STEPS, exhausted: false }
      return SPECIAL_SCHEMES.some((scheme) => nfa.matches(scheme, budget))
    }
    const init = parseConstructorString(pattern, (protocol) =>
      matchesSpecial(compile(protocol, DEFAULT_OPTIONS, ENCODE.protocol)),
    )
    room = MAX_URL_PATTERN_STATES
    const components = resolveInit(init, base)
    this.components = components
    const protocol = compile(components.protocol, DEFAULT_OPTIONS, ENCODE.protocol)
    const username = compile(components.username, DEFAULT_OPTIONS, ENCODE.username)
    const password = compile(components.password, DEFAULT_OPTIONS, ENCODE.password)
    // [spec] an IPv6 hostname pattern ("[", "\\[" or "{[" first) is only lowercased.
    const ipv6 = /^(\[|\\\[|\{\[)/.test(components.hostname)
    const hostname = compile(
      components.hostname,
      HOSTNAME_OPTIONS,
      ipv6 ? (text) => text.toLowerCase() : ENCODE.hostname,
    )
    const port = compile(components.port, DEFAULT_OPTIONS, ENCODE.port)
    const pathname = matchesSpecial(protocol)
      ? compile(components.pathname, PATHNAME_OPTIONS, encodePathname)
      : compile(components.pathname, DEFAULT_OPTIONS, encodeOpaquePathname)
    const search = compile(components.search, DEFAULT_OPTIONS, ENCODE.search)
    const hash = compile(components.hash, DEFAULT_OPTIONS, ENCODE.hash)
    this.#automata = { protocol, username, password, hostname, port, pathname, search, hash }
    const automata = Object.values(this.#automata)
    // The fixed text a matching topic's key starts with: its scheme, host and port when each is
    // fixed, then the fixed start of its path. Parsed again only if a component's text repeats.
    const partsOf = (source: string) => parsed.get(source) ?? []
    const scheme = fixedText(partsOf(components.protocol))
    const host = fixedText(partsOf(components.hostname))
    const portText = fixedText(partsOf(components.port))
    this.keyPrefix =
      scheme === null || host === null || portText === null
        ? ''
        : `${scheme}://${host}:${portText}${leadingText(partsOf(components.pathname))}`
    this.stateCount = automata.reduce((sum, nfa) => sum + nfa.stateCount, 0)
    this.stepsPerCharacter = Math.max(...automata.map((nfa) => nfa.stateCount + nfa.moveCount))
  }

  matches(topic: string, budget?: MatchBudget): boolean {
    let url: URL
    try {
      url = new URL(topic, this.#base)
    } catch {
      return false
    }
    return this.matchesUrl(url, budget)
  }

  matchesUrl(url: URL, budget?: MatchBudget): boolean {
    const spend = budget ?? { remaining: DEFAULT_MATCH_STEPS, exhausted: false }
    const values: Record<Component, string> = {
      protocol: url.protocol.slice(0, -1),
      username: url.username,
      password: url.password,
      hostname: url.hostname,
      port: url.port,
      pathname: url.pathname,
      search: url.search.slice(1),
      hash: url.hash.slice(1),
    }
    // `every` stops at the first component that fails: its budget is not spent on the rest.
    return COMPONENTS.every((name) => this.#automata[name].matches(values[name], spend))
  }
}

/**
 * [spec] "generate a regular expression and name list", as an automaton: each part in turn,
 * anchored at both ends.
 */
function compileComponent(parts: readonly Part[], options: PatternOptions, room: number): Nfa {
  const builder = new NfaBuilder(room)
  const start = builder.state()
  let state = start
  const segment = complement(
    union(...Array.from(options.delimiter, (c) => range(c.codePointAt(0) as number))),
  )
  for (const part of parts) {
    const [min, max] = BOUNDS[part.modifier]
    if (part.type === 'fixed-text') {
      state = emitRepeat(builder, state, min, max, (s) => builder.literal(s, part.value))
      continue
    }
    const tree = part.type === 'regexp' ? parseRegexp(part.value) : null
    const body = (s: number): number => {
      if (tree !== null) return emitRegexp(builder, s, tree)
      // Segment wildcard `[^<delimiter>]+?`; full wildcard `.*`.
      if (part.type === 'segment-wildcard') {
        return emitRepeat(builder, s, 1, -1, (t) => builder.edge(t, segment))
      }
      return emitRepeat(builder, s, 0, -1, (t) => builder.edge(t, DOT))
    }
    const { prefix, suffix } = part
    if (prefix === '' && suffix === '') {
      state = emitRepeat(builder, state, min, max, body)
    } else if (max === 1) {
      // `(?:prefix(body)suffix)` with the modifier
      state = emitRepeat(builder, state, min, max, (s) =>
        builder.literal(body(builder.literal(s, prefix)), suffix),
      )
    } else {
      // `(?:prefix((?:body)(?:suffix prefix (?:body))*)suffix)`, optional for `*`
      state = emitRepeat(builder, state, min, 1, (s) => {
        const first = body(builder.literal(s, prefix))
        const rest = emitRepeat(builder, first, 0, -1, (t) =>
          body(builder.literal(t, suffix + prefix)),
        )
        return builder.literal(rest, suffix)
      })
    }
  }
  return new Nfa(builder, start, state)
}

/**
 * RFC 6570 URI Templates read backwards, for Mercure draft-07 topic selectors: could a string be
 * an expansion of a template, for some values of its variables? All of level 4: the operators
 * (none), `+`, `#`, `.`, `/`, `;`, `?`, `&`, variable lists, explode (`*`) and prefix (`:n`).
 *
 * A template compiles once to an automaton (a Thompson NFA, read through a lazily built,
 * size-capped DFA), not to a `RegExp`: `RegExp` backtracks, and templates are ambiguous by nature.
 * `{+a}/{+b}` would be `[R]*\/[R]*` with `/` in `R`, and k such pieces cost O(n^k) on a topic that
 * fails late (ReDoS: the subscriber picks the template, the publisher the topic). Here a topic
 * character costs at most one visit per automaton state: a match is O(topic length × states).
 *
 * @module
 */

import { accepted, type Checked, refused } from './checked.ts'
import {
  type Expression,
  isIprivate,
  isUcschar,
  OPERATORS,
  type OperatorSpec,
  type Part,
  parseTemplate,
  type VarSpec,
} from './uri-template-syntax.ts'

/** Longest template, in UTF-16 code units, that {@link compileUriTemplate} accepts. */
export const MAX_TEMPLATE_LENGTH = 4096

/**
 * Most automaton states a template may compile to: this bounds the work per topic character
 * (ReDoS guard). Leading ASCII text costs none (it is compared as a string), other literal text
 * a state per character, an expression a dozen or a few dozen, a prefix `:n` 6 per unit of `n`.
 */
export const MAX_TEMPLATE_STATES = 512

/** A compiled URI Template. */
export interface UriTemplate {
  /** The template text, as given. */
  readonly template: string
  /** The number of states of its automaton, at most {@link MAX_TEMPLATE_STATES}. */
  readonly stateCount: number
  /**
   * Its leading ASCII literal text (possibly empty): every string it matches starts with it, and
   * it is compared as a string, with no automaton state.
   */
  readonly prefix: string
  /** Whether some values of the variables (strings, lists, arrays, undefined) expand to `uri`. */
  matches(uri: string): boolean
}

/**
 * Compiles an RFC 6570 template for reverse matching.
 *
 * Beyond the RFC's expansion, a match also accepts the IRI forms a Mercure topic may take
 * (topics SHOULD be IRIs): values may hold non-ASCII `ucschar` unencoded (RFC 3987 `iunreserved`;
 * also `iprivate` for `+` and `#`), a non-ASCII literal matches itself as well as its
 * percent-encoding, and percent-encodings may use hex digits of either case. A variable used twice
 * is matched independently at each place: no regular language can require the two to be equal.
 *
 * @returns The compiled template, or why `template` is not one: a syntax error, or more than
 *   {@link MAX_TEMPLATE_LENGTH} characters or {@link MAX_TEMPLATE_STATES} states.
 */
export function compileUriTemplate(template: string): Checked<UriTemplate> {
  if (template.length > MAX_TEMPLATE_LENGTH) {
    return refused(`Longer than ${MAX_TEMPLATE_LENGTH} characters.`)
  }
  const parsed = parseTemplate(template)
  if (!parsed.ok) return parsed
  const parts = parsed.value
  // [RFC 6570 §3.1] Literal characters allowed in a URI "are copied directly to the result": the
  // leading ASCII text is checked by string comparison, where most topics fail.
  const head = typeof parts[0] === 'string' ? parts[0] : ''
  let cut = 0
  while (cut < head.length && head.charCodeAt(cut) < 0x80) cut++
  const prefix = head.slice(0, cut)
  parts[0] = cut > 0 ? head.slice(cut) : (parts[0] as Part)
  const builder = new Builder()
  try {
    let state = builder.start
    for (const part of parts) {
      state =
        typeof part === 'string' ? builder.literal(state, part) : builder.expression(state, part)
    }
    builder.epsilon(state, builder.accept)
  } catch (error) {
    if (!(error instanceof TooComplexError)) throw error
    return refused(`The template needs more than ${MAX_TEMPLATE_STATES} automaton states.`)
  }
  return accepted(new CompiledTemplate(template, prefix, builder))
}

/** Code points: ASCII by bitmap; beyond, `wide` families (`ucschar`, `iprivate`) or one `point`. */
type CharSet = { readonly bits: readonly number[]; readonly wide: number; readonly point: number }
const [UCSCHAR, IPRIVATE] = [1, 2] as const

function charSet(ascii: string, wide = 0, point = -1): CharSet {
  const bits = [0, 0, 0, 0]
  for (let i = 0; i < ascii.length; i++) {
    const c = ascii.charCodeAt(i)
    bits[c >> 5] = (bits[c >> 5] as number) | (1 << (c & 31))
  }
  return { bits, wide, point }
}

function inSet(set: CharSet, c: number): boolean {
  if (c < 0x80) return (((set.bits[c >> 5] as number) >>> (c & 31)) & 1) === 1
  if (c === set.point) return true
  return isUcschar(c) ? (set.wide & UCSCHAR) !== 0 : isIprivate(c) && (set.wide & IPRIVATE) !== 0
}

const HEX = charSet('0123456789ABCDEFabcdef')
// A UTF-8 continuation byte is 0x80–0xBF: its first hex digit is 8, 9, A or B.
const CONTINUATION = charSet('89ABab')
const PERCENT = charSet('%')
const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'
// [RFC 6570 §3.2.1] "reserved ("+") and fragment ("#") expansions allow the set of characters in
// the union of ( unreserved / reserved / pct-encoded ) to be passed through without
// pct-encoding, whereas all other expression types allow only unreserved characters"
const UNRESERVED_CHAR = charSet(UNRESERVED, UCSCHAR)
const RESERVED_CHAR = charSet(`${UNRESERVED}:/?#[]@!$&'()*+,;=`, UCSCHAR | IPRIVATE)
const ASCII_SETS = Array.from({ length: 0x80 }, (_, c) => charSet(String.fromCharCode(c)))
const utf8 = new TextEncoder()
/** One hex digit, of either case: a topic may percent-encode a literal either way. */
const hexDigit = (digit: number) => charSet(digit.toString(16) + digit.toString(16).toUpperCase())

class TooComplexError extends Error {}

/**
 * Builds the NFA. Each method takes the state to start from and returns the state where its piece
 * ends, created by the piece; loops get a fresh head, so no two loops ever share a state.
 */
class Builder {
  stateCount = 0
  /** Moves as (from, set, to) triples: `set` indexes `sets`, or is -1 for an ε-move. */
  readonly moves: number[] = []
  readonly sets: CharSet[] = []
  readonly #setIds = new Map<CharSet, number>()
  readonly start = this.state()
  readonly accept = this.state()

  state(): number {
    if (this.stateCount >= MAX_TEMPLATE_STATES) throw new TooComplexError()
    return this.stateCount++
  }

  epsilon(from: number, to: number): void {
    this.moves.push(from, -1, to)
  }

  edge(from: number, set: CharSet, to = this.state()): number {
    const id = this.#setIds.get(set) ?? this.sets.push(set) - 1
    this.#setIds.set(set, id)
    this.moves.push(from, id, to)
    return to
  }

  /** Literal text [RFC 6570 §3.1]: ASCII as is; other characters raw or percent-encoded. */
  literal(from: number, text: string): number {
    let state = from
    for (const char of text) {
      const c = char.codePointAt(0) as number
      if (c < 0x80) {
        state = this.edge(state, ASCII_SETS[c] as CharSet)
        continue
      }
      const end = this.edge(state, charSet('', 0, c))
      let encoded = state
      for (const byte of utf8.encode(char)) {
        encoded = this.edge(this.edge(encoded, PERCENT), hexDigit(byte >> 4))
        encoded = this.edge(encoded, hexDigit(byte & 15))
      }
      this.epsilon(encoded, end)
      state = end
    }
    return state
  }

  /** An encoded value: characters of `single` and percent-encoded triplets, any number. */
  value(from: number, single: CharSet): number {
    const loop = this.state()
    this.epsilon(from, loop)
    this.edge(loop, single, loop)
    this.edge(this.edge(this.edge(loop, PERCENT), HEX), HEX, loop)
    return loop
  }

  /**
   * At most `count` value characters, as a prefix counts them [RFC 6570 §2.4.1 "in characters,
   * not octets"]: each one of `single`, or a percent-encoded byte with the UTF-8 continuation
   * bytes after it (so `{x:1}` matches `%C3%A9`, é). Unrolled: a state set holds no counter.
   */
  characters(from: number, count: number, single: CharSet): number {
    const end = this.state()
    this.epsilon(from, end)
    for (let i = 0, state = from; i < count; i++) {
      const next = this.edge(state, single)
      const byte = this.edge(this.edge(this.edge(state, PERCENT), HEX), HEX)
      this.edge(this.edge(this.edge(byte, PERCENT), CONTINUATION), HEX, byte)
      this.epsilon(byte, next)
      this.epsilon(next, end)
      state = next
    }
    return end
  }

  /** `item`, then any number of times `separator` and `item`. */
  separated(from: number, separator: string, item: (from: number) => number): number {
    const join = this.state()
    this.epsilon(item(from), join)
    this.epsilon(item(this.literal(join, separator)), join)
    return join
  }

  /** After `name`: `ifEmpty`, or `=` and what `value` reads. */
  named(name: number, ifEmpty: string, value: (from: number) => number): number {
    const end = this.state()
    this.epsilon(this.literal(name, ifEmpty), end)
    this.epsilon(value(this.literal(name, '=')), end)
    return end
  }

  expression(from: number, expression: Expression): number {
    const spec = OPERATORS[expression.operator]
    const end = this.state()
    // [RFC 6570 §3.2.1] "If all of the variables in an expression are undefined, then the
    // expression's expansion is the empty string."
    this.epsilon(from, end)
    // Else `first`, then the defined variables in order, `sep` between them. picks[i] is the state
    // "the next defined variable is number i or a later one": linear in the variable count.
    const picks = expression.variables.map(() => this.state())
    this.epsilon(this.literal(from, spec.first), picks[0] as number)
    expression.variables.forEach((variable, i) => {
      const next = picks[i + 1]
      const done = this.variable(picks[i] as number, spec, variable)
      this.epsilon(done, end)
      if (next === undefined) return
      this.epsilon(picks[i] as number, next)
      this.epsilon(this.literal(done, spec.sep), next)
    })
    return end
  }

  /** One defined variable, without the `first` or `sep` before it [RFC 6570 Appendix A]. */
  variable(from: number, spec: OperatorSpec, variable: VarSpec): number {
    const single = spec.reserved ? RESERVED_CHAR : UNRESERVED_CHAR
    const value = (state: number) => this.value(state, single)
    // Unexploded, a list is its values joined by ","; an associative array, its names and values
    // alike; a string, a list of one.
    const list = (state: number) => this.separated(state, ',', value)
    const name = () => this.literal(from, variable.name)
    if (variable.prefix > 0) {
      // [RFC 6570 §2.4.1] "Prefix modifiers are not applicable to variables that have composite
      // values": only a string, cut to at most n characters, expands here.
      const string = (state: number) => this.characters(state, variable.prefix, single)
      return spec.named ? this.named(name(), spec.ifEmpty, string) : string(from)
    }
    if (!variable.explode) return spec.named ? this.named(name(), spec.ifEmpty, list) : list(from)
    // Exploded and named: list items as `name=value`, pairs as `key=value`, `ifemp` for empty
    // values. Keys are encoded values, and the variable's own name is one of them.
    const { sep, ifEmpty } = spec
    if (spec.named) return this.separated(from, sep, (s) => this.named(value(s), ifEmpty, value))
    // Exploded and unnamed: a list's items, or an array's `key=value` pairs, joined by `sep`.
    const end = this.state()
    const pair = (s: number) => value(this.literal(value(s), '='))
    this.epsilon(this.separated(from, sep, value), end)
    this.epsilon(this.separated(from, sep, pair), end)
    return end
  }
}

/** A DFA state: its NFA states, whether it accepts, transitions by ASCII class (null fails). */
type DfaState = {
  /**
   * Its NFA states as a bitset, 16 a character (state s is bit `s & 15` of character
   * `1 + (s >> 4)`) after a first character `a` (accepting) or `r`; also its key in the DFA cache.
   * A few bytes per DFA state, whatever the number of NFA states it holds.
   */
  readonly key: string
  readonly accepting: boolean
  readonly cached: boolean
  readonly next: (DfaState | null | undefined)[]
}

/**
 * Most DFA states a template keeps: `DFA_STATES + stateCount / 8`. A template's DFA can have
 * exponentially many states; a topic walks through at most one per character, and the topics of
 * one hub share most of their walks. Counted prefixes in a row (`{+a:10}{+b:10}…`) take a new
 * state at every character of a topic, each holding hundreds of NFA states: kept, they run as
 * fast as any template (about 1 µs on a 45-character topic, against 85 µs stepped through uncached).
 */
const DFA_STATES = 64

// Scratch for ε-closures, shared: a match never calls out, so no two use it at once. A state is in
// the set being built when marked with the current generation (a float: it never wraps).
const marks = new Float64Array(MAX_TEMPLATE_STATES)
const stack = new Int32Array(MAX_TEMPLATE_STATES)
let generation = 0
// Scratch for a DFA state's bitset, 16 NFA states a unit.
const halves = new Uint16Array(MAX_TEMPLATE_STATES / 16)

class CompiledTemplate implements UriTemplate {
  readonly template: string
  readonly stateCount: number
  readonly prefix: string
  readonly #accept: number
  readonly #sets: readonly CharSet[]
  /** The moves, grouped by state: state s's are at `#start[s]` up to `#start[s + 1]`. */
  readonly #start: Int32Array
  readonly #set: Int32Array
  readonly #to: Int32Array
  /** Whether a state has an edge (else it only has ε-moves, and DFA states leave it out). */
  readonly #reads: Uint8Array
  /** ASCII character → class: characters no set tells apart share their DFA transitions. */
  readonly #classes = new Uint8Array(0x80)
  readonly #classCount: number
  readonly #dfa = new Map<string, DfaState>()
  /** Most DFA states kept (memory bound). */
  readonly #dfaRoom: number
  readonly #initial: DfaState

  constructor(template: string, prefix: string, builder: Builder) {
    const { moves, stateCount, sets } = builder
    this.template = template
    this.stateCount = stateCount
    this.prefix = prefix
    this.#accept = builder.accept
    this.#sets = sets
    const order = Array.from({ length: moves.length / 3 }, (_, m) => 3 * m)
    order.sort((a, b) => (moves[a] as number) - (moves[b] as number))
    this.#start = new Int32Array(stateCount + 1)
    this.#set = Int32Array.from(order, (m) => moves[m + 1] as number)
    this.#to = Int32Array.from(order, (m) => moves[m + 2] as number)
    this.#reads = new Uint8Array(stateCount)
    order.forEach((m, at) => {
      this.#start[(moves[m] as number) + 1] = at + 1
      if (moves[m + 1] !== -1) this.#reads[moves[m] as number] = 1
    })
    // A state without moves starts and ends where the one before it ends.
    for (let s = 1; s <= stateCount; s++) {
      this.#start[s] = Math.max(this.#start[s] as number, this.#start[s - 1] as number)
    }
    const classIds = new Map<string, number>()
    for (let c = 0; c < 0x80; c++) {
      const signature = sets.map((set) => (inSet(set, c) ? 1 : 0)).join('')
      const id = classIds.get(signature) ?? classIds.size
      classIds.set(signature, id)
      this.#classes[c] = id
    }
    this.#classCount = classIds.size
    this.#dfaRoom = DFA_STATES + (stateCount >> 3)
    const mark = ++generation
    const initial: number[] = []
    this.#close(builder.start, initial, mark)
    this.#initial = this.#intern(initial, marks[this.#accept] === mark)
  }

  matches(uri: string): boolean {
    const prefix = this.prefix
    const end = uri.length
    // The prefix's last character first: topics share their scheme and host with a template far
    // more often than what follows, and this fails most of them at once.
    const last = prefix.length - 1
    if (end <= last || (last >= 0 && uri.charCodeAt(last) !== prefix.charCodeAt(last))) return false
    return uri.startsWith(prefix) && this.#run(uri, end)
  }

  /** Runs the DFA over `uri` between the prefix and `end`. */
  #run(uri: string, end: number): boolean {
    const classes = this.#classes
    let state = this.#initial
    for (let i = this.prefix.length; i < end; i++) {
      let c = uri.charCodeAt(i)
      let next: DfaState | null | undefined
      if (c < 0x80) {
        const k = classes[c] as number
        next = state.next[k]
        if (next === undefined) {
          next = this.#step(state, c)
          // A kept state links only to kept ones, or it would keep alive what the budget dropped.
          if (next === null || next.cached) state.next[k] = next
        }
      } else {
        c = uri.codePointAt(i) as number
        next = this.#step(state, c)
        if (c > 0xffff) i++
      }
      if (next === null) return false
      state = next
    }
    return state.accepting
  }

  /** The DFA state after reading `c` in `state`, or `null` when nothing can follow. */
  #step(state: DfaState, c: number): DfaState | null {
    const mark = ++generation
    const states: number[] = []
    const { key } = state
    for (let unit = 1; unit < key.length; unit++) {
      let bits = key.charCodeAt(unit)
      while (bits !== 0) {
        const lowest = bits & -bits
        bits ^= lowest
        const from = ((unit - 1) << 4) | (31 - Math.clz32(lowest))
        const end = this.#start[from + 1] as number
        for (let k = this.#start[from] as number; k < end; k++) {
          const set = this.#sets[this.#set[k] as number]
          if (set !== undefined && inSet(set, c)) this.#close(this.#to[k] as number, states, mark)
        }
      }
    }
    const accepting = marks[this.#accept] === mark
    return states.length === 0 && !accepting ? null : this.#intern(states, accepting)
  }

  /** Adds `seed` and the states it reaches by ε-moves; each state is visited once per mark. */
  #close(seed: number, states: number[], mark: number): void {
    if (marks[seed] === mark) return
    marks[seed] = mark
    let top = 0
    stack[top++] = seed
    while (top > 0) {
      const state = stack[--top] as number
      if (this.#reads[state] === 1) states.push(state)
      const end = this.#start[state + 1] as number
      for (let k = this.#start[state] as number; k < end; k++) {
        const to = this.#to[k] as number
        if (this.#set[k] !== -1 || marks[to] === mark) continue
        marks[to] = mark
        stack[top++] = to
      }
    }
  }

  #intern(states: number[], accepting: boolean): DfaState {
    const units = (this.stateCount + 15) >> 4
    halves.fill(0, 0, units)
    for (const state of states) {
      halves[state >> 4] = (halves[state >> 4] as number) | (1 << (state & 15))
    }
    const key = (accepting ? 'a' : 'r') + String.fromCharCode(...halves.subarray(0, units))
    const known = this.#dfa.get(key)
    if (known !== undefined) return known
    // Memory bound: a DFA can have exponentially many states. Keep `#dfaRoom` of them; past that,
    // step through new ones uncached (still linear in the topic, just slower).
    const cached = this.#dfa.size < this.#dfaRoom
    const next = new Array<DfaState | null | undefined>(this.#classCount).fill(undefined)
    const state = { key, accepting, cached, next }
    if (cached) this.#dfa.set(key, state)
    return state
  }
}

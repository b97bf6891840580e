/**
 * The regular expressions a URL Pattern group may hold (`:id(\\d+)`), read as a safe subset of
 * ECMAScript's `u`-mode syntax and compiled into a {@link NfaBuilder}: literals, `.`, character
 * classes (`[a-z]`, `[^/]`, `\d \w \s` and their negations), escapes (`\n \t \xHH \uHHHH \u{…}`),
 * alternation, groups (`(?:…)`, `(?<name>…)`), and the quantifiers `* + ? {n} {n,} {n,m}`, greedy
 * or lazy (the same language: a boolean match does not care which). Refused, because no finite
 * automaton decides them or they change what a full match means: backreferences (`\1`, `\k<…>`),
 * lookaround (`(?=`, `(?!`, `(?<=`, `(?<!`), anchors and word boundaries (`^ $ \b \B`), Unicode
 * property escapes (`\p{…}`) and modifiers (`(?i:…)`).
 *
 * @module
 */

import {
  type CodePointSet,
  complement,
  type NfaBuilder,
  range,
  union,
} from './pattern-automaton.ts'

/** Largest count a `{n,m}` quantifier may give (unrolled, each copy costs states). */
export const MAX_REPEAT_COUNT = 100

/** A regular expression of the supported subset. */
export type RegexpNode =
  | { readonly type: 'set'; readonly set: CodePointSet }
  | { readonly type: 'seq'; readonly items: readonly RegexpNode[] }
  | { readonly type: 'alt'; readonly items: readonly RegexpNode[] }
  | {
      readonly type: 'repeat'
      readonly item: RegexpNode
      readonly min: number
      /** -1: no upper bound. */
      readonly max: number
    }

/** Why a group's regular expression is refused. */
export class UnsupportedRegexpError extends Error {}

const DIGIT = range(0x30, 0x39)
const WORD = union(range(0x30, 0x39), range(0x41, 0x5a), range(0x5f), range(0x61, 0x7a))
const SPACE = union(
  range(0x09, 0x0d),
  range(0x20),
  range(0xa0),
  range(0x1680),
  range(0x2000, 0x200a),
  range(0x2028, 0x2029),
  range(0x202f),
  range(0x205f),
  range(0x3000),
  range(0xfeff),
)
/** `.` without the `s` flag: anything but a line terminator. */
export const DOT = complement(union(range(0x0a), range(0x0d), range(0x2028, 0x2029)))
const SYNTAX = '^$\\.*+?()[]{}|/'
const CONTROL: Readonly<Record<string, number>> = { n: 10, r: 13, t: 9, f: 12, v: 11, '0': 0 }

/** Parses `source` (a group's regular expression) into a {@link RegexpNode}. */
export function parseRegexp(source: string): RegexpNode {
  const reader = new Reader(source)
  const node = reader.alternation()
  if (reader.at < source.length) reader.fail(`unexpected "${source[reader.at]}"`)
  return node
}

class Reader {
  readonly source: string
  at = 0

  constructor(source: string) {
    this.source = source
  }

  fail(why: string): never {
    throw new UnsupportedRegexpError(`Unsupported regular expression in a URL pattern: ${why}.`)
  }

  peek(): string | undefined {
    return this.source[this.at]
  }

  eat(text: string): boolean {
    if (!this.source.startsWith(text, this.at)) return false
    this.at += text.length
    return true
  }

  alternation(): RegexpNode {
    const items = [this.sequence()]
    while (this.eat('|')) items.push(this.sequence())
    return items.length === 1 ? (items[0] as RegexpNode) : { type: 'alt', items }
  }

  sequence(): RegexpNode {
    const items: RegexpNode[] = []
    for (let c = this.peek(); c !== undefined && c !== '|' && c !== ')'; c = this.peek()) {
      items.push(this.quantified(this.atom()))
    }
    return { type: 'seq', items }
  }

  quantified(item: RegexpNode): RegexpNode {
    let min: number
    let max: number
    if (this.eat('*')) [min, max] = [0, -1]
    else if (this.eat('+')) [min, max] = [1, -1]
    else if (this.eat('?')) [min, max] = [0, 1]
    else {
      const counted = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.at))
      if (counted === null) return item
      this.at += counted[0].length
      min = Number(counted[1])
      max = counted[2] === undefined ? min : counted[3] === '' ? -1 : Number(counted[3])
      if (max !== -1 && max < min) this.fail('numbers out of order in a {} quantifier')
      if (min > MAX_REPEAT_COUNT || max > MAX_REPEAT_COUNT) {
        this.fail(`a {} quantifier counts past ${MAX_REPEAT_COUNT}`)
      }
    }
    this.eat('?')
    const after = this.peek()
    if (after !== undefined && '*+?{'.includes(after)) this.fail('nothing to repeat')
    return { type: 'repeat', item, min, max }
  }

  atom(): RegexpNode {
    const c = this.source[this.at++] as string
    switch (c) {
      case '.':
        return { type: 'set', set: DOT }
      case '[':
        return { type: 'set', set: this.characterClass() }
      case '\\':
        return { type: 'set', set: this.escape(false) }
      case '(': {
        if (this.eat('?')) {
          if (this.eat(':')) {
            // A non-capturing group.
          } else if (/^<[A-Za-z_$][\w$]*>/.test(this.source.slice(this.at))) {
            this.at = this.source.indexOf('>', this.at) + 1
          } else this.fail('lookaround and group modifiers are not supported')
        }
        const inner = this.alternation()
        if (!this.eat(')')) this.fail('unbalanced parenthesis')
        return inner
      }
      case '^':
      case '$':
        return this.fail('anchors are not supported')
      case '*':
      case '+':
      case '?':
      case '{':
      case '}':
      case ']':
      case ')':
        return this.fail(`nothing to repeat or unbalanced "${c}"`)
      default: {
        const code = this.source.codePointAt(this.at - 1) as number
        if (code > 0xffff) this.at++
        return { type: 'set', set: range(code) }
      }
    }
  }

  /** After a `\`: the set it stands for. `inClass`: inside `[…]`, where `\b` would be backspace. */
  escape(inClass: boolean): CodePointSet {
    const c = this.source[this.at++]
    if (c === undefined) return this.fail('a trailing backslash')
    const classes: Readonly<Record<string, CodePointSet>> = { d: DIGIT, w: WORD, s: SPACE }
    const lower = classes[c.toLowerCase()]
    if (lower !== undefined) return c === c.toLowerCase() ? lower : complement(lower)
    const control = CONTROL[c]
    if (control !== undefined) {
      if (c === '0' && /[0-9]/.test(this.peek() ?? '')) this.fail('octal escapes are not supported')
      return range(control)
    }
    if (c === '-' && inClass) return range(0x2d)
    if (SYNTAX.includes(c)) return range(c.charCodeAt(0))
    if (c === 'x' || c === 'u') {
      const hex =
        c === 'x'
          ? /^[0-9A-Fa-f]{2}/.exec(this.source.slice(this.at))
          : (/^\{[0-9A-Fa-f]{1,6}\}/.exec(this.source.slice(this.at)) ??
            /^[0-9A-Fa-f]{4}/.exec(this.source.slice(this.at)))
      if (hex === null) return this.fail(`a malformed \\${c} escape`)
      this.at += hex[0].length
      const code = Number.parseInt(hex[0].replace(/[{}]/g, ''), 16)
      if (code > 0x10ffff) this.fail('a code point past U+10FFFF')
      return range(code)
    }
    if (/[1-9]/.test(c) || c === 'k') return this.fail('backreferences are not supported')
    if (c === 'b' || c === 'B') return this.fail('word boundaries are not supported')
    if (c === 'p' || c === 'P') return this.fail('Unicode property escapes are not supported')
    return this.fail(`an unknown escape \\${c}`)
  }

  /** After a `[`: the class up to its `]`. */
  characterClass(): CodePointSet {
    const negated = this.eat('^')
    const members: CodePointSet[] = []
    while (!this.eat(']')) {
      if (this.at >= this.source.length) this.fail('an unterminated character class')
      const lo = this.classAtom()
      if (
        this.peek() === '-' &&
        this.source[this.at + 1] !== ']' &&
        this.at + 1 < this.source.length
      ) {
        this.at++
        const hi = this.classAtom()
        if (lo.length !== 2 || hi.length !== 2 || lo[0] !== lo[1] || hi[0] !== hi[1]) {
          this.fail('a class escape in a range')
        }
        if ((hi[0] as number) < (lo[0] as number)) this.fail('a range out of order')
        members.push(range(lo[0] as number, hi[0] as number))
      } else members.push(lo)
    }
    const set = union(...members)
    return negated ? complement(set) : set
  }

  classAtom(): CodePointSet {
    const code = this.source.codePointAt(this.at) as number
    this.at += code > 0xffff ? 2 : 1
    if (code === 0x5c) return this.escape(true)
    if (code === 0x5b) this.fail('a "[" inside a class (set notation) is not supported')
    return range(code)
  }
}

/** Emits `node` into `builder` from `from`; returns the state where it ends. */
export function emitRegexp(builder: NfaBuilder, from: number, node: RegexpNode): number {
  switch (node.type) {
    case 'set':
      return builder.edge(from, node.set)
    case 'seq': {
      let state = from
      for (const item of node.items) state = emitRegexp(builder, state, item)
      return state
    }
    case 'alt': {
      const end = builder.state()
      for (const item of node.items) builder.epsilon(emitRegexp(builder, from, item), end)
      return end
    }
    case 'repeat':
      return emitRepeat(builder, from, node.min, node.max, (s) => emitRegexp(builder, s, node.item))
  }
}

/**
 * `min` to `max` (-1: any number of) copies of what `emit` builds, unrolled. A loop gets a fresh
 * head state, so what one copy reads never leaks into another (Thompson's construction).
 */
export function emitRepeat(
  builder: NfaBuilder,
  from: number,
  min: number,
  max: number,
  emit: (from: number) => number,
): number {
  let state = from
  for (let i = 0; i < min; i++) state = emit(state)
  if (max === -1) {
    const head = builder.state()
    builder.epsilon(state, head)
    builder.epsilon(emit(head), head)
    return head
  }
  const end = builder.state()
  builder.epsilon(state, end)
  for (let i = min; i < max; i++) {
    state = emit(state)
    builder.epsilon(state, end)
  }
  return end
}

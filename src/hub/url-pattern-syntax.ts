/**
 * The WHATWG URL Pattern syntax (URL Pattern Standard §2 "Pattern strings"): the tokenizer and
 * the parser of one component's pattern string into parts. The constructor string, which splits a
 * whole pattern into components, is read in `url-pattern-constructor.ts`.
 *
 * @module
 */

/** A token [spec] "A token is a struct representing a single lexical token in the pattern string". */
export interface Token {
  readonly type:
    | 'open'
    | 'close'
    | 'regexp'
    | 'name'
    | 'char'
    | 'escaped-char'
    | 'other-modifier'
    | 'asterisk'
    | 'end'
    | 'invalid-char'
  /** Where it starts in the input. */
  readonly index: number
  readonly value: string
}

/** A pattern string that is not one, with the spec's reason. */
export class PatternSyntaxError extends Error {}

/** [spec] "tokenize policy": strict for pattern strings, lenient for constructor strings. */
export type TokenizePolicy = 'strict' | 'lenient'

const NAME_START = /[$_\p{ID_Start}]/u
// [spec] "valid name code point": ID_Continue, `$`, ZWNJ or ZWJ.
const NAME_PART = /^(?:[$_\p{ID_Continue}]|\u200C|\u200D)$/u

/** [spec] "tokenize": `input` as a list of tokens ending with an `end` token. */
export function tokenize(input: string, policy: TokenizePolicy): Token[] {
  const tokens: Token[] = []
  const chars = Array.from(input)
  let at = 0
  let index = 0
  const error = (start: number, length: number, why: string): void => {
    if (policy === 'strict') throw new PatternSyntaxError(`Invalid URL pattern: ${why}.`)
    tokens.push({
      type: 'invalid-char',
      index: start,
      value: chars.slice(at, at + length).join(''),
    })
  }
  const push = (
    type: Token['type'],
    count: number,
    value = chars.slice(at, at + count).join(''),
  ) => {
    tokens.push({ type, index, value })
    for (let i = 0; i < count; i++) index += (chars[at + i] as string).length
    at += count
  }
  while (at < chars.length) {
    const c = chars[at] as string
    if (c === '*') push('asterisk', 1)
    else if (c === '+' || c === '?') push('other-modifier', 1)
    else if (c === '\\') {
      if (at + 1 === chars.length) {
        error(index, 1, 'a trailing backslash')
        index += 1
        at += 1
      } else {
        const escaped = chars[at + 1] as string
        tokens.push({ type: 'escaped-char', index, value: escaped })
        index += 1 + escaped.length
        at += 2
      }
    } else if (c === '{') push('open', 1)
    else if (c === '}') push('close', 1)
    else if (c === ':') {
      let end = at + 1
      if (end < chars.length && NAME_START.test(chars[end] as string)) {
        end++
        while (end < chars.length && NAME_PART.test(chars[end] as string)) end++
      }
      if (end === at + 1) {
        error(index, 1, 'a ":" not followed by a name')
        index += 1
        at += 1
        continue
      }
      const name = chars.slice(at + 1, end).join('')
      tokens.push({ type: 'name', index, value: name })
      index += 1 + name.length
      at = end
    } else if (c === '(') {
      const read = readRegexp(chars, at)
      if (typeof read === 'string') {
        error(index, 1, read)
        index += 1
        at += 1
        continue
      }
      tokens.push({ type: 'regexp', index, value: read.value })
      for (let i = at; i < read.end; i++) index += (chars[i] as string).length
      at = read.end
    } else push('char', 1)
  }
  tokens.push({ type: 'end', index, value: '' })
  return tokens
}

/** A `(…)` group's regular expression from `chars[at]` (the `(`), or why it is invalid. */
function readRegexp(chars: readonly string[], at: number): { value: string; end: number } | string {
  let depth = 1
  let i = at + 1
  let value = ''
  let first = true
  while (i < chars.length) {
    const c = chars[i] as string
    if (c.charCodeAt(0) > 0x7f) return 'a non-ASCII character in a regular expression'
    if (first && c === '?') return 'a regular expression starting with "?"'
    first = false
    if (c === '\\') {
      const next = chars[i + 1]
      if (next === undefined) return 'a trailing backslash in a regular expression'
      if (next.charCodeAt(0) > 0x7f) return 'a non-ASCII character in a regular expression'
      value += c + next
      i += 2
      continue
    }
    if (c === ')') {
      depth--
      if (depth === 0) {
        i++
        break
      }
    } else if (c === '(') {
      depth++
      if (i + 1 >= chars.length) return 'an unbalanced regular expression'
      // [spec] capturing groups inside a group are an error: "(" must be followed by "?".
      if (chars[i + 1] !== '?') return 'a capturing group inside a regular expression'
    }
    value += c
    i++
  }
  if (depth !== 0) return 'an unbalanced regular expression'
  if (value === '') return 'an empty regular expression'
  return { value, end: i }
}

/** [spec] "part modifier". */
export type Modifier = '' | '?' | '*' | '+'

/** [spec] "A part is a struct representing one piece of a parser's output." */
export interface Part {
  readonly type: 'fixed-text' | 'regexp' | 'segment-wildcard' | 'full-wildcard'
  /** The fixed text (encoded), or the regular expression of a `regexp` part. */
  readonly value: string
  readonly modifier: Modifier
  readonly name: string
  readonly prefix: string
  readonly suffix: string
}

/** [spec] "options": what separates segments, and what may prefix a named group. */
export interface PatternOptions {
  readonly delimiter: string
  readonly prefix: string
}

/** [spec] "generate a segment wildcard regexp". */
export function segmentWildcardRegexp(options: PatternOptions): string {
  return `[^${escapeRegexp(options.delimiter)}]+?`
}

/** [spec] "escape a regexp string". */
export function escapeRegexp(text: string): string {
  return text.replace(/[.+*?^${}()[\]|/\\]/g, '\\$&')
}

/** [spec] "escape a pattern string". */
export function escapePattern(text: string): string {
  return text.replace(/[+*?:{}()\\]/g, '\\$&')
}

/**
 * [spec] "parse a pattern string": `input`'s parts, fixed text passed through `encode` (the
 * component's "encoding callback").
 */
export function parsePatternString(
  input: string,
  options: PatternOptions,
  encode: (text: string) => string,
): Part[] {
  const tokens = tokenize(input, 'strict')
  const parts: Part[] = []
  const names = new Set<string>()
  let pending = ''
  let index = 0
  let nextName = 0
  const tryConsume = (type: Token['type']): Token | null => {
    const token = tokens[index] as Token
    if (token.type !== type) return null
    index++
    return token
  }
  const tryModifier = (): Token | null => tryConsume('other-modifier') ?? tryConsume('asterisk')
  const tryRegexpOrWildcard = (name: Token | null): Token | null => {
    const token = tryConsume('regexp')
    return token === null && name === null ? tryConsume('asterisk') : token
  }
  const consumeText = (): string => {
    let text = ''
    for (;;) {
      const token = tryConsume('char') ?? tryConsume('escaped-char')
      if (token === null) return text
      text += token.value
    }
  }
  const flushPending = (): void => {
    if (pending === '') return
    parts.push({
      type: 'fixed-text',
      value: encode(pending),
      modifier: '',
      name: '',
      prefix: '',
      suffix: '',
    })
    pending = ''
  }
  const addPart = (
    prefix: string,
    name: Token | null,
    regexpOrWildcard: Token | null,
    suffix: string,
    modifierToken: Token | null,
  ): void => {
    const modifier = (modifierToken?.value ?? '') as Modifier
    if (name === null && regexpOrWildcard === null && modifier === '') {
      pending += prefix
      return
    }
    flushPending()
    if (name === null && regexpOrWildcard === null) {
      if (prefix === '') return
      parts.push({
        type: 'fixed-text',
        value: encode(prefix),
        modifier,
        name: '',
        prefix: '',
        suffix: '',
      })
      return
    }
    let value =
      regexpOrWildcard === null
        ? segmentWildcardRegexp(options)
        : regexpOrWildcard.type === 'asterisk'
          ? '.*'
          : regexpOrWildcard.value
    let type: Part['type'] = 'regexp'
    if (value === segmentWildcardRegexp(options)) [type, value] = ['segment-wildcard', '']
    else if (value === '.*') [type, value] = ['full-wildcard', '']
    const partName = name?.value ?? String(nextName++)
    if (names.has(partName))
      throw new PatternSyntaxError(`Invalid URL pattern: a duplicate group name.`)
    names.add(partName)
    parts.push({
      type,
      value,
      modifier,
      name: partName,
      prefix: encode(prefix),
      suffix: encode(suffix),
    })
  }
  while (index < tokens.length) {
    const char = tryConsume('char')
    const name = tryConsume('name')
    const regexpOrWildcard = tryRegexpOrWildcard(name)
    if (name !== null || regexpOrWildcard !== null) {
      let prefix = char?.value ?? ''
      if (prefix !== '' && prefix !== options.prefix) {
        pending += prefix
        prefix = ''
      }
      flushPending()
      addPart(prefix, name, regexpOrWildcard, '', tryModifier())
      continue
    }
    const fixed = char ?? tryConsume('escaped-char')
    if (fixed !== null) {
      pending += fixed.value
      continue
    }
    if (tryConsume('open') !== null) {
      const prefix = consumeText()
      const groupName = tryConsume('name')
      const groupRegexp = tryRegexpOrWildcard(groupName)
      const suffix = consumeText()
      if (tryConsume('close') === null) {
        throw new PatternSyntaxError('Invalid URL pattern: a "{" group is not closed.')
      }
      addPart(prefix, groupName, groupRegexp, suffix, tryModifier())
      continue
    }
    flushPending()
    if (tryConsume('end') === null) {
      throw new PatternSyntaxError(
        `Invalid URL pattern: an unexpected "${(tokens[index] as Token).value}".`,
      )
    }
  }
  return parts
}

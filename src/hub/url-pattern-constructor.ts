/**
 * [spec] URL Pattern Standard "parse a constructor string": a whole pattern such as
 * `https://example.net/books/:id` or `/books/:id?x=*` split into its components' pattern strings.
 * Components the string leaves out are absent from the result (the constructor then takes them
 * from the base URL, or makes them `*`).
 *
 * @module
 */

import { type Token, tokenize } from './url-pattern-syntax.ts'

/** The eight components of a URL, in order. */
export const COMPONENTS = [
  'protocol',
  'username',
  'password',
  'hostname',
  'port',
  'pathname',
  'search',
  'hash',
] as const

/** One of {@link COMPONENTS}. */
export type Component = (typeof COMPONENTS)[number]

/** Component pattern strings, as a `URLPatternInit` holds them. */
export type PatternInit = Partial<Record<Component, string>>

type State = 'init' | 'authority' | 'done' | Component

/**
 * [spec] "parse a constructor string". `matchesSpecialScheme` says whether a protocol pattern
 * string matches one of the special schemes (it decides whether `https:` alone starts an
 * authority, and the empty path is `/`).
 */
export function parseConstructorString(
  input: string,
  matchesSpecialScheme: (protocol: string) => boolean,
): PatternInit {
  const tokens = tokenize(input, 'lenient')
  const result: PatternInit = {}
  let state: State = 'init'
  let index = 0
  let increment = 1
  let componentStart = 0
  let groupDepth = 0
  let ipv6Depth = 0
  let special = false

  const safe = (i: number): Token => tokens[Math.min(i, tokens.length - 1)] as Token
  const isChar = (i: number, value: string): boolean => {
    const token = safe(i)
    return (
      token.value === value &&
      (token.type === 'char' || token.type === 'escaped-char' || token.type === 'invalid-char')
    )
  }
  const isSearchPrefix = (): boolean => {
    if (isChar(index, '?')) return true
    if ((tokens[index] as Token).value !== '?') return false
    if (index === 0) return true
    const previous = (tokens[index - 1] as Token).type
    return !['name', 'regexp', 'close', 'asterisk'].includes(previous)
  }
  const componentString = (): string =>
    input.slice(safe(componentStart).index, (tokens[index] as Token).index)
  const rewind = (): void => {
    index = componentStart
    increment = 0
  }
  const has = (c: Component) => result[c] !== undefined
  const changeState = (next: State, skip: number): void => {
    if (state !== 'init' && state !== 'authority' && state !== 'done') {
      result[state] = componentString()
    }
    if (state !== 'init' && next !== 'done') {
      const before = (list: readonly State[]) => list.includes(state)
      if (
        before(['protocol', 'authority', 'username', 'password']) &&
        ['port', 'pathname', 'search', 'hash'].includes(next) &&
        !has('hostname')
      ) {
        result.hostname = ''
      }
      if (
        before(['protocol', 'authority', 'username', 'password', 'hostname', 'port']) &&
        (next === 'search' || next === 'hash') &&
        !has('pathname')
      ) {
        result.pathname = special ? '/' : ''
      }
      if (
        before(['protocol', 'authority', 'username', 'password', 'hostname', 'port', 'pathname']) &&
        next === 'hash' &&
        !has('search')
      ) {
        result.search = ''
      }
    }
    state = next
    index += skip
    componentStart = index
    increment = 0
  }

  while (index < tokens.length) {
    increment = 1
    const token = tokens[index] as Token
    if (token.type === 'end') {
      if (state === 'init') {
        rewind()
        // [spec] A relative pattern leaves the components after the one it starts with out (so
        // `/books/:id` has the search and hash `*`).
        if (isChar(index, '#')) changeState('hash', 1)
        else if (isSearchPrefix()) changeState('search', 1)
        else changeState('pathname', 0)
        index += increment
        continue
      }
      if ((state as State) === 'authority') {
        rewind()
        state = 'hostname'
        index += increment
        continue
      }
      changeState('done', 0)
      break
    }
    if (token.type === 'open') {
      groupDepth++
      index += increment
      continue
    }
    if (groupDepth > 0) {
      if (token.type === 'close') groupDepth--
      else {
        index += increment
        continue
      }
    }
    switch (state as State) {
      case 'init':
        if (isChar(index, ':')) {
          rewind()
          state = 'protocol'
        }
        break
      case 'protocol':
        if (isChar(index, ':')) {
          special = matchesSpecialScheme(componentString())
          let next: State = 'pathname'
          let skip = 1
          if (isChar(index + 1, '/') && isChar(index + 2, '/')) [next, skip] = ['authority', 3]
          else if (special) next = 'authority'
          changeState(next, skip)
        }
        break
      case 'authority':
        if (isChar(index, '@')) {
          rewind()
          state = 'username'
        } else if (isChar(index, '/') || isSearchPrefix() || isChar(index, '#')) {
          rewind()
          state = 'hostname'
        }
        break
      case 'username':
        if (isChar(index, ':')) changeState('password', 1)
        else if (isChar(index, '@')) changeState('hostname', 1)
        break
      case 'password':
        if (isChar(index, '@')) changeState('hostname', 1)
        break
      case 'hostname':
        if (isChar(index, '[')) ipv6Depth++
        else if (isChar(index, ']')) ipv6Depth--
        else if (isChar(index, ':') && ipv6Depth === 0) changeState('port', 1)
        else if (isChar(index, '/')) changeState('pathname', 0)
        else if (isSearchPrefix()) changeState('search', 1)
        else if (isChar(index, '#')) changeState('hash', 1)
        break
      case 'port':
        if (isChar(index, '/')) changeState('pathname', 0)
        else if (isSearchPrefix()) changeState('search', 1)
        else if (isChar(index, '#')) changeState('hash', 1)
        break
      case 'pathname':
        if (isSearchPrefix()) changeState('search', 1)
        else if (isChar(index, '#')) changeState('hash', 1)
        break
      case 'search':
        if (isChar(index, '#')) changeState('hash', 1)
        break
      default:
        break
    }
    index += increment
  }
  if (result.hostname !== undefined && result.port === undefined) result.port = ''
  return result
}

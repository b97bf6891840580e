/**
 * Finds the modules a TypeScript file imports, for `test/floors.test.ts`: static `import … from`,
 * side-effect `import '…'`, `export … from`, `import type`/`export type`, and `import('…')` with a
 * string literal (at run time or in a type: `typeof import('…')`).
 *
 * A small scanner rather than regular expressions over the text: comments, strings and template
 * literals are skipped token by token, so an import written inside a comment or a string (a test
 * fixture's source, a doc example) is not taken for one. Regular expression literals are told
 * from division by the token before the slash, as JavaScript parsers do.
 */

/** One import of a file. */
export interface ImportSpecifier {
  /** The module specifier as written, e.g. `'../hub/update.ts'` or `'node:http'`. */
  readonly specifier: string
  /** The 1-based line of the specifier. */
  readonly line: number
  /** How it is written. */
  readonly kind: 'import' | 'import type' | 'export from' | 'export type from' | 'import()'
}

type Token =
  | { readonly type: 'word'; readonly value: string; readonly line: number }
  | { readonly type: 'string'; readonly value: string; readonly line: number }
  | { readonly type: 'punct'; readonly value: string; readonly line: number }
  | { readonly type: 'other'; readonly value: string; readonly line: number }

/** Keywords after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEX = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
])

/** Lists the imports of `source`, in order. */
export function importSpecifiers(source: string): ImportSpecifier[] {
  return parseImports(tokenize(source))
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = []
  // Template literals nest through `${ … }`: each open substitution remembers its brace depth.
  const templateDepths: number[] = []
  let braceDepth = 0
  let line = 1
  let i = 0
  const regexAllowed = (): boolean => {
    const last = tokens.at(-1)
    if (last === undefined) return true
    if (last.type === 'word') return BEFORE_REGEX.has(last.value)
    if (last.type === 'punct')
      return !(last.value === ')' || last.value === ']' || last.value === '}')
    return false
  }
  const countLines = (from: number, to: number): void => {
    for (let k = from; k < to; k++) if (source.charCodeAt(k) === 10) line++
  }
  /** Reads a template's text from `i` up to its end or its next `${`. */
  const templateText = (): void => {
    const start = i
    while (i < source.length) {
      const c = source[i]
      if (c === '\\') i += 2
      else if (c === '`') {
        i++
        break
      } else if (c === '$' && source[i + 1] === '{') {
        i += 2
        templateDepths.push(braceDepth)
        braceDepth++
        break
      } else i++
    }
    countLines(start, i)
    tokens.push({ type: 'other', value: 'template', line })
  }

  while (i < source.length) {
    const c = source[i] as string
    if (c === '\n') {
      line++
      i++
    } else if (/\s/.test(c)) {
      i++
    } else if (c === '/' && source[i + 1] === '/') {
      while (i < source.length && source[i] !== '\n') i++
    } else if (c === '/' && source[i + 1] === '*') {
      const end = source.indexOf('*/', i + 2)
      const stop = end === -1 ? source.length : end + 2
      countLines(i, stop)
      i = stop
    } else if (c === "'" || c === '"') {
      const startLine = line
      let value = ''
      i++
      while (i < source.length && source[i] !== c && source[i] !== '\n') {
        if (source[i] === '\\') {
          value += source.slice(i, i + 2)
          i += 2
        } else {
          value += source[i]
          i++
        }
      }
      i++
      tokens.push({ type: 'string', value, line: startLine })
    } else if (c === '`') {
      i++
      templateText()
    } else if (c === '/' && regexAllowed()) {
      // A regular expression literal: up to the closing slash outside a character class.
      i++
      let inClass = false
      while (i < source.length && source[i] !== '\n') {
        const r = source[i]
        if (r === '\\') i++
        else if (r === '[') inClass = true
        else if (r === ']') inClass = false
        else if (r === '/' && !inClass) break
        i++
      }
      i++
      while (i < source.length && /[a-z]/i.test(source[i] as string)) i++
      tokens.push({ type: 'other', value: 'regex', line })
    } else if (/[A-Za-z_$\d]/.test(c)) {
      const start = i
      while (i < source.length && /[\w$]/.test(source[i] as string)) i++
      tokens.push({ type: 'word', value: source.slice(start, i), line })
    } else if (c === '{') {
      braceDepth++
      tokens.push({ type: 'punct', value: c, line })
      i++
    } else if (c === '}') {
      braceDepth--
      i++
      if (templateDepths.at(-1) === braceDepth) {
        // The end of a `${ … }` substitution: the template's text goes on.
        templateDepths.pop()
        templateText()
      } else tokens.push({ type: 'punct', value: c, line })
    } else if (c === '.' && source[i + 1] === '.' && source[i + 2] === '.') {
      tokens.push({ type: 'punct', value: '...', line })
      i += 3
    } else {
      tokens.push({ type: 'punct', value: c, line })
      i++
    }
  }
  return tokens
}

function parseImports(tokens: readonly Token[]): ImportSpecifier[] {
  const found: ImportSpecifier[] = []
  const at = (k: number): Token | undefined => tokens[k]
  const is = (k: number, type: Token['type'], value?: string): boolean => {
    const token = at(k)
    return (
      token !== undefined && token.type === type && (value === undefined || token.value === value)
    )
  }
  /** From `k`, skips an import or export clause; returns the index of its `from`, or -1. */
  const clauseEnd = (k: number): number => {
    let j = k
    while (j < tokens.length) {
      if (is(j, 'word', 'from') && is(j + 1, 'string')) return j
      if (is(j, 'punct', '{')) {
        let depth = 0
        do {
          if (is(j, 'punct', '{')) depth++
          else if (is(j, 'punct', '}')) depth--
          j++
        } while (j < tokens.length && depth > 0)
      } else if (is(j, 'word') || is(j, 'punct', ',') || is(j, 'punct', '*')) j++
      else return -1
    }
    return -1
  }

  for (let k = 0; k < tokens.length; k++) {
    const token = tokens[k] as Token
    if (token.type !== 'word' || (token.value !== 'import' && token.value !== 'export')) continue
    // `x.import`, `x?.import`: a property, not a keyword.
    if (is(k - 1, 'punct', '.')) continue
    const typeOnly = is(k + 1, 'word', 'type') && !is(k + 2, 'punct', '=')
    if (token.value === 'import') {
      if (is(k + 1, 'punct', '(')) {
        // `import('…')`: only a string literal names a module the scanner can check.
        if (is(k + 2, 'string') && (is(k + 3, 'punct', ')') || is(k + 3, 'punct', ','))) {
          const spec = at(k + 2) as Token
          found.push({ specifier: spec.value, line: spec.line, kind: 'import()' })
        }
        continue
      }
      if (is(k + 1, 'string')) {
        const spec = at(k + 1) as Token
        found.push({ specifier: spec.value, line: spec.line, kind: 'import' })
        continue
      }
      if (is(k + 1, 'punct', '.')) continue // import.meta
    } else if (!(is(k + 1, 'punct', '{') || is(k + 1, 'punct', '*') || typeOnly)) {
      continue // export const, export function, …
    }
    const from = clauseEnd(k + 1)
    if (from === -1) continue
    const spec = at(from + 1) as Token
    const kind =
      token.value === 'import'
        ? typeOnly
          ? 'import type'
          : 'import'
        : typeOnly
          ? 'export type from'
          : 'export from'
    found.push({ specifier: spec.value, line: spec.line, kind })
    k = from + 1
  }
  return found
}

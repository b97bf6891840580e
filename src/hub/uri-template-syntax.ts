/**
 * The syntax of RFC 6570 URI Templates (level 4): a template read into literals and expressions,
 * and the character classes of RFC 6570 §2 and RFC 3987 §2.2 that the grammar and the matching
 * automaton (`uri-template.ts`) share.
 *
 * @module
 */

import { accepted, type Checked, refused } from './checked.ts'

/** One variable: its name, whether exploded, and its prefix length (0 for none). */
export type VarSpec = { readonly name: string; readonly explode: boolean; readonly prefix: number }
export type Expression = { readonly operator: Operator; readonly variables: readonly VarSpec[] }
/** A literal (its text, percent-encodings as written) or an expression. */
export type Part = string | Expression

// [RFC 6570 Appendix A] first, sep, named, ifemp, and whether allow is U+R (else U).
export const OPERATORS = {
  '': { first: '', sep: ',', named: false, ifEmpty: '', reserved: false },
  '+': { first: '', sep: ',', named: false, ifEmpty: '', reserved: true },
  '#': { first: '#', sep: ',', named: false, ifEmpty: '', reserved: true },
  '.': { first: '.', sep: '.', named: false, ifEmpty: '', reserved: false },
  '/': { first: '/', sep: '/', named: false, ifEmpty: '', reserved: false },
  ';': { first: ';', sep: ';', named: true, ifEmpty: '', reserved: false },
  '?': { first: '?', sep: '&', named: true, ifEmpty: '=', reserved: false },
  '&': { first: '&', sep: '&', named: true, ifEmpty: '=', reserved: false },
}
export type Operator = keyof typeof OPERATORS
export type OperatorSpec = (typeof OPERATORS)[Operator]

/** Reads a template into its parts, or says where its syntax is wrong. */
export function parseTemplate(template: string): Checked<Part[]> {
  const parts: Part[] = []
  let literal = ''
  for (let i = 0; i < template.length; ) {
    const c = template.codePointAt(i) as number
    if (c === 0x7b) {
      const close = template.indexOf('}', i)
      if (close < 0) return refused(`Unclosed expression at index ${i}.`)
      const expression = parseExpression(template.slice(i + 1, close), i)
      if (!expression.ok) return expression
      parts.push(literal, expression.value)
      literal = ''
      i = close + 1
    } else if (c === 0x25) {
      if (!isPercentEncoded(template, i)) return refused(`Invalid percent-encoding at index ${i}.`)
      literal += template.slice(i, i + 3)
      i += 3
    } else if (isLiteral(c)) {
      literal += String.fromCodePoint(c)
      i += c > 0xffff ? 2 : 1
    } else return refused(`Invalid character at index ${i}.`)
  }
  return accepted([...parts, literal].filter((part, i) => part !== '' || i === 0))
}

function parseExpression(body: string, at: number): Checked<Expression> {
  const head = body.charAt(0)
  // [RFC 6570 §2.2] "The operator characters equals ("="), comma (","), exclamation ("!"), at
  // sign ("@"), and pipe ("|") are reserved for future extensions."
  if (head !== '' && '=,!@|'.includes(head)) return refused(`Reserved operator at index ${at}.`)
  const operator = (head !== '' && '+#./;?&'.includes(head) ? head : '') as Operator
  const variables: VarSpec[] = []
  for (const text of body.slice(operator.length).split(',')) {
    const colon = text.indexOf(':')
    const explode = text.endsWith('*')
    const name = explode ? text.slice(0, -1) : colon >= 0 ? text.slice(0, colon) : text
    // [RFC 6570 §2.4.1] max-length = %x31-39 0*3DIGIT ; positive integer < 10000
    const digits = explode || colon < 0 ? '1' : text.slice(colon + 1)
    if (!/^[1-9][0-9]{0,3}$/.test(digits)) return refused(`Invalid prefix length at index ${at}.`)
    if (!VARNAME.test(name)) return refused(`Invalid variable name at index ${at}.`)
    variables.push({ name, explode, prefix: explode || colon < 0 ? 0 : Number(digits) })
  }
  return accepted({ operator, variables })
}

// [RFC 6570 §2.3] varname = varchar *( ["."] varchar ); varchar = ALPHA / DIGIT / "_" / pct-encoded
// (Linear: each loop starts with a character its predecessor cannot consume.)
const VARNAME = /^(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+(?:\.(?:[A-Za-z0-9_]|%[0-9A-Fa-f]{2})+)*$/

const isPercentEncoded = (text: string, i: number) =>
  text.charCodeAt(i) === 0x25 && isHex(text.charCodeAt(i + 1)) && isHex(text.charCodeAt(i + 2))
const isHex = (c: number) => (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66)

// [RFC 6570 §2.1] literals: "any Unicode character except: CTL, SP, DQUOTE, "'", "%" (aside from
// pct-encoded), "<", ">", "\", "^", "`", "{", "|", "}"". Verified erratum 6937 allows "'" again.
function isLiteral(c: number): boolean {
  if (c >= 0x80) return isUcschar(c) || isIprivate(c)
  return c > 0x20 && c < 0x7f && !'"%<>\\^`{|}'.includes(String.fromCharCode(c))
}

// [RFC 3987 §2.2] ucschar = %xA0-D7FF / %xF900-FDCF / %xFDF0-FFEF / %x10000-1FFFD / … /
// %xD0000-DFFFD / %xE1000-EFFFD
export function isUcschar(c: number): boolean {
  if (c >= 0x10000) return c >= 0xe0000 ? c >= 0xe1000 && c <= 0xefffd : (c & 0xffff) <= 0xfffd
  return (c >= 0xa0 && c <= 0xd7ff) || (c >= 0xf900 && c <= 0xfdcf) || (c >= 0xfdf0 && c <= 0xffef)
}

// [RFC 3987 §2.2] iprivate = %xE000-F8FF / %xF0000-FFFFD / %x100000-10FFFD
export const isIprivate = (c: number) =>
  (c >= 0xe000 && c <= 0xf8ff) || (c >= 0xf0000 && (c & 0xffff) <= 0xfffd)

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { Nfa, NfaBuilder } from './pattern-automaton.ts'
import { emitRegexp, parseRegexp, UnsupportedRegexpError } from './pattern-regexp.ts'

/** `source` as a whole-input matcher, through the automaton. */
function automaton(source: string): (input: string) => boolean {
  const builder = new NfaBuilder(4096)
  const start = builder.state()
  const nfa = new Nfa(builder, start, emitRegexp(builder, start, parseRegexp(source)))
  return (input) => nfa.matches(input, { remaining: Number.MAX_SAFE_INTEGER, exhausted: false })
}

/** Regular expressions of the subset, without nested repetition (which makes RegExp slow). */
const plain = fc.constantFrom(
  'a',
  'b',
  '\\d',
  '\\D',
  '\\w',
  '\\W',
  '\\s',
  '[a-c]',
  '[^b]',
  '[\\d.-]',
  '[^\\w]',
  '.',
  '\\.',
  '\\x61',
  '\\u{1F600}',
  '\u00e9',
)
const piece = fc
  .tuple(
    fc.oneof(
      plain,
      fc
        .array(fc.array(plain, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 3 })
        .map((alts) => `(?:${alts.map((alt) => alt.join('')).join('|')})`),
    ),
    fc.constantFrom('', '', '*', '+', '?', '{2}', '{1,3}', '{0,}', '+?', '??'),
  )
  .map(([atom, quantifier]) => atom + quantifier)
const regexp = fc
  .array(fc.array(piece, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 2 })
  .map((alts) => alts.map((alt) => alt.join('')).join('|'))
const input = fc
  .array(fc.constantFrom('a', 'b', 'c', '1', '.', '-', ' ', '_', '\u00e9', '\u{1F600}', '/'), {
    maxLength: 8,
  })
  .map((chars) => chars.join(''))

describe('parseRegexp', () => {
  it('accepts what RegExp accepts, as RegExp does (u mode, whole input)', () => {
    fc.assert(
      fc.property(regexp, fc.array(input, { maxLength: 10 }), (source, inputs) => {
        const reference = new RegExp(`^(?:${source})$`, 'u')
        const mine = automaton(source)
        for (const text of inputs) {
          assert.equal(mine(text), reference.test(text), `/${source}/ ~ ${JSON.stringify(text)}`)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('refuses what RegExp refuses in u mode', () => {
    for (const source of [
      'a{2,1}',
      '[b-a]',
      '(?:a',
      'a)',
      '*a',
      'a**',
      '\\',
      '[a',
      '\\q',
      '\\x4',
    ]) {
      assert.throws(() => new RegExp(source, 'u'))
      assert.throws(() => parseRegexp(source), UnsupportedRegexpError, source)
    }
  })
})

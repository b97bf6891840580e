import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { compileUriTemplate, MAX_TEMPLATE_STATES, type UriTemplate } from './uri-template.ts'

// What the subscription index relies on (issue #11's budget for matching work): a template's
// literal prefix, answers that do not change once its DFA cache is full, and matching in time
// linear in the topic, whatever the template.

function compile(template: string): UriTemplate {
  const compiled = compileUriTemplate(template)
  if (!compiled.ok) assert.fail(`${template}: ${compiled.message}`)
  return compiled.value
}

describe('compileUriTemplate, for the subscription index', () => {
  it('gives its leading ASCII literal as its prefix, which every string it matches starts with', () => {
    assert.equal(compile('https://example.com/books/{id}').prefix, 'https://example.com/books/')
    assert.equal(compile('https://example.com/é/{id}').prefix, 'https://example.com/')
    assert.equal(compile('{+any}/books').prefix, '')
    assert.equal(compile('urn:{x}').prefix, 'urn:')
  })

  it('answers the same whether a DFA state was kept or stepped through, past its cache', () => {
    // Counted prefixes in a row take a new DFA state at each character: 200 topics of varying
    // shapes outgrow the cache of 64 + states / 8, and the answers must not change once it is full.
    const template = compile(
      `{v:10}${Array.from({ length: 7 }, (_, j) => `{${j % 2 === 0 ? '+' : ''}b${j}:10}`).join('')}~`,
    )
    const topics = Array.from({ length: 200 }, (_, n) => {
      const segment = 'x'.repeat(1 + (n % 9))
      return `${segment}/${'y'.repeat(1 + ((n * 7) % 11))}?${segment}=${n}${n % 3 === 0 ? '~' : ''}`
    })
    // A topic matches when it ends with the literal and the rest fits the 8 counted prefixes.
    const expected = topics.map((topic) => topic.endsWith('~') && topic.length - 1 <= 80)
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(
        topics.map((topic) => template.matches(topic)),
        expected,
        `round ${round}`,
      )
    }
  })
  it('finishes pathological template and topic pairs: linear in the topic, not exponential', () => {
    // Each of these would backtrack for O(n^k) steps as a RegExp: k pieces whose characters
    // overlap, and a topic of their common characters that fails only at its last character. The
    // automaton reads each character once per state: at most MAX_TEMPLATE_STATES × 8193 steps.
    const cases: [string, string][] = [
      ['{+a}/{+b}/{+c}/{+d}/{+e}/{+f}/{+g}/{+h}', `${'/'.repeat(8192)} `],
      ['{a}-{b}-{c}-{d}-{e}-{f}-{g}-{h}', `${'-'.repeat(8192)} `],
      ['{a}{b}{c}{d}{e}{f}{g}{h}{i}{j}{k}{l}', `${'a%41'.repeat(2048)}%`],
      ['{/a*}{/b*}{/c*}{/d*}{/e*}', `${'/a=b'.repeat(2048)}=`],
      ['{?a*}{&b*}{;c*}{.d*}', `?${'a=b&'.repeat(2048)}`],
      ['{+a}a{+b}a{+c}a{+d}a{+e}a{+f}a', `${'a'.repeat(8192)} `],
    ]
    for (const [template, topic] of cases) {
      const compiled = compile(template)
      assert.ok(compiled.stateCount <= MAX_TEMPLATE_STATES)
      assert.equal(compiled.matches(topic), false, template)
    }
  })
})

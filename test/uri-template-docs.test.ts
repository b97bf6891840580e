import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { compileUriTemplate } from '../src/hub/uri-template.ts'

const HUB_DOC = new URL('../docs/hub.md', import.meta.url)

/** The rows of the table in docs/hub.md's "What a URI template in a claim matches". */
function documentedExamples(): Array<{ selector: string; topic: string; matches: boolean }> {
  const text = readFileSync(HUB_DOC, 'utf8')
  const section = text.split('### What a URI template in a claim matches')[1]?.split('\n## ')[0]
  assert.ok(section, 'docs/hub.md has the section')
  return [...section.matchAll(/^\| `([^`]+)` \| `([^`]+)` \| (yes|no) \|$/gm)].map((row) => ({
    selector: row[1] as string,
    topic: row[2] as string,
    matches: row[3] === 'yes',
  }))
}

describe('the URI template examples of docs/hub.md', () => {
  it('are what the matcher does, row by row', () => {
    const examples = documentedExamples()
    assert.ok(examples.length >= 20, `${examples.length} rows`)
    for (const { selector, topic, matches } of examples) {
      const template = compileUriTemplate(selector)
      if (!template.ok) assert.fail(`${selector} compiles: ${template.message}`)
      assert.equal(
        template.value.matches(topic),
        matches,
        `${selector} ${matches ? 'matches' : 'does not match'} ${topic}`,
      )
    }
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { DEFAULT_MAX_TEMPLATE_WORK } from './defaults.ts'
import { describeTemplateExcess, TEMPLATE_BASE_COST, templateCost } from './template-budget.ts'
import { compileUriTemplate, MAX_TEMPLATE_STATES, type UriTemplate } from './uri-template.ts'

function compile(template: string): UriTemplate {
  const compiled = compileUriTemplate(template)
  if (!compiled.ok) throw new Error(compiled.message)
  return compiled.value
}

describe('templateCost', () => {
  it('charges an ordinary template little more than its states, and the largest twice theirs', () => {
    const books = compile('https://example.com/books/{id}')
    assert.equal(books.stateCount, 12)
    assert.equal(templateCost(books), 12 + TEMPLATE_BASE_COST)
    const user = compile('https://example.com/users/{id}/{?topic}')
    assert.equal(templateCost(user), 32 + 2 + TEMPLATE_BASE_COST)
    const largest = {
      template: '',
      prefix: '',
      stateCount: MAX_TEMPLATE_STATES,
      matches: () => false,
    }
    assert.equal(templateCost(largest), 1056)
  })

  it('admits 93 ordinary templates, or 3 of the costliest, within the default work bound', () => {
    assert.equal(Math.floor(DEFAULT_MAX_TEMPLATE_WORK / 44), 93)
    assert.equal(Math.floor(DEFAULT_MAX_TEMPLATE_WORK / 1056), 3)
  })
})

describe('describeTemplateExcess', () => {
  it('names the bound passed and what it would hold, and asks for exact topics or a later retry', () => {
    const work = describeTemplateExcess({ budget: 'work', needed: 4164, limit: 4096 })
    assert.match(
      work,
      /one topic is tested against would cost 4164 automaton states, more than 4096/,
    )
    assert.match(work, /exact topics or templates already in use, or retry/)
    const states = describeTemplateExcess({ budget: 'states', needed: 2001, limit: 2000 })
    assert.match(states, /all the URI templates subscribed to would cost 2001/)
  })
})

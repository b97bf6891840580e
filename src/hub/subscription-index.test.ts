import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { SubscriptionIndex } from './subscription-index.ts'
import { createSelectorMatcher, type SelectorMatcher } from './topic-selector.ts'

const BOOK_1 = 'https://example.com/books/1'
const BOOK_2 = 'https://example.com/books/2'
const BOOKS = 'https://example.com/books/{id}'

/** The items `match` visits, in visiting order (duplicates kept, to catch them). */
function visited<T extends NonNullable<unknown>>(
  index: SubscriptionIndex<T>,
  topics: readonly string[],
): T[] {
  const items: T[] = []
  index.match(topics, (item) => items.push(item))
  return items
}

const sorted = (items: readonly string[]) => [...items].sort()

describe('SubscriptionIndex', () => {
  it('visits the exact subscribers of the topic only', () => {
    const index = new SubscriptionIndex<string>()
    index.add(BOOK_1, 'alice')
    index.add(BOOK_2, 'bob')
    assert.deepEqual(visited(index, [BOOK_1]), ['alice'])
    assert.deepEqual(visited(index, ['https://example.com/books/3']), [])
  })

  it('visits "*" subscribers for every update', () => {
    const index = new SubscriptionIndex<string>()
    index.add('*', 'carol')
    index.add(BOOK_1, 'alice')
    assert.deepEqual(sorted(visited(index, [BOOK_1])), ['alice', 'carol'])
    assert.deepEqual(visited(index, ['urn:anything']), ['carol'])
  })

  it('visits template subscribers when the template matches a topic', () => {
    const index = new SubscriptionIndex<string>()
    index.add(BOOKS, 'dave')
    index.add('https://example.com/users/{id}', 'erin')
    assert.deepEqual(visited(index, [BOOK_1]), ['dave'])
    assert.deepEqual(visited(index, ['https://example.com/books/1/chapters']), [])
  })

  it('visits a template subscriber for the identical string, which the template does not match', () => {
    const index = new SubscriptionIndex<string>()
    index.add(BOOKS, 'dave')
    assert.deepEqual(visited(index, [BOOKS]), ['dave'])
  })

  it('treats an invalid template as an exact selector', () => {
    const index = new SubscriptionIndex<string>()
    index.add('https://example.com/books/{id', 'frank')
    assert.deepEqual(visited(index, ['https://example.com/books/{id']), ['frank'])
    assert.deepEqual(visited(index, [BOOK_1]), [])
  })

  it('visits an item once when several of its selectors match', () => {
    const index = new SubscriptionIndex<string>()
    for (const selector of ['*', BOOK_1, BOOKS, 'https://example.com/{+path}']) {
      index.add(selector, 'alice')
    }
    index.add(BOOKS, 'bob')
    assert.deepEqual(sorted(visited(index, [BOOK_1])), ['alice', 'bob'])
  })

  it('visits an item once when it matches several topics of the update', () => {
    const index = new SubscriptionIndex<string>()
    index.add(BOOK_1, 'alice')
    index.add(BOOK_2, 'alice')
    index.add(BOOKS, 'bob')
    assert.deepEqual(sorted(visited(index, [BOOK_1, BOOK_2, BOOK_1])), ['alice', 'bob'])
  })

  it('tests each distinct template once per topic, however many items share it', () => {
    const calls: string[] = []
    const real = createSelectorMatcher()
    const matcher: SelectorMatcher = {
      ...real,
      template(selector) {
        const template = real.template(selector)
        if (template === null) return null
        return {
          ...template,
          matches(topic: string) {
            calls.push(topic)
            return template.matches(topic)
          },
        }
      },
    }
    const index = new SubscriptionIndex<number>({ matcher })
    for (let i = 0; i < 100; i++) index.add(BOOKS, i)
    assert.equal(visited(index, [BOOK_1]).length, 100)
    assert.deepEqual(calls, [BOOK_1])
  })

  it('counts distinct items and selectors, and frees a selector with its last item', () => {
    const index = new SubscriptionIndex<string>()
    assert.equal(index.add(BOOK_1, 'alice'), true)
    assert.equal(index.add(BOOK_1, 'alice'), false)
    index.add(BOOKS, 'alice')
    index.add(BOOKS, 'bob')
    index.add('*', 'carol')
    assert.equal(index.size, 3)
    assert.equal(index.selectorCount, 3)
    assert.equal(index.delete(BOOK_1, 'alice'), true)
    assert.equal(index.delete(BOOK_1, 'alice'), false)
    assert.equal(index.delete('https://example.com/never', 'alice'), false)
    assert.equal(index.size, 3)
    assert.equal(index.selectorCount, 2)
    index.delete(BOOKS, 'alice')
    index.delete(BOOKS, 'bob')
    index.delete('*', 'carol')
    assert.equal(index.size, 0)
    assert.equal(index.selectorCount, 0)
    assert.deepEqual(visited(index, [BOOK_1]), [])
  })

  it('visits the items that matched when the call began, whatever visit changes', () => {
    const index = new SubscriptionIndex<string>()
    for (const item of ['alice', 'bob', 'carol']) {
      index.add('*', item)
      index.add(BOOK_1, item)
    }
    const seen: string[] = []
    index.match([BOOK_1], (item) => {
      seen.push(item)
      for (const other of ['alice', 'bob', 'carol']) {
        index.delete('*', other)
        index.delete(BOOK_1, other)
        index.add(BOOK_2, other)
      }
    })
    assert.deepEqual(sorted(seen), ['alice', 'bob', 'carol'])
    assert.equal(index.size, 3)
    assert.deepEqual(visited(index, [BOOK_1]), [])
  })

  it('visits the items of a lone exact entry as they were, whatever visit changes', () => {
    const index = new SubscriptionIndex<string>()
    for (const item of ['alice', 'bob', 'carol']) index.add(BOOK_1, item)
    const seen: string[] = []
    index.match([BOOK_1], (item) => {
      seen.push(item)
      index.delete(BOOK_1, 'carol')
      index.add(BOOK_1, `${item}-new`)
    })
    assert.deepEqual(seen, ['alice', 'bob', 'carol'])
    assert.deepEqual(sorted(visited(index, [BOOK_1])), [
      'alice',
      'alice-new',
      'bob',
      'bob-new',
      'carol-new',
    ])
  })
})

describe('SubscriptionIndex, by property', () => {
  const topics = [
    BOOK_1,
    BOOK_2,
    'https://example.com/books/1/chapters',
    'https://example.com/users/foo/',
    `https://example.com/users/foo/?topic=${encodeURIComponent(BOOK_1)}`,
    BOOKS,
    'urn:uuid:0191',
    '',
  ]
  const selectors = [
    ...topics,
    '*',
    'https://example.com/books/{id}/chapters',
    'https://example.com/users/foo/{?topic}',
    'https://example.com/{+path}',
    'https://example.com/books/{id',
    '{x}',
  ]
  const operation = fc.record({
    add: fc.boolean(),
    selector: fc.constantFrom(...selectors),
    item: fc.integer({ min: 0, max: 7 }),
  })

  it('visits exactly the items a brute-force scan finds, each once', () => {
    const { matches } = createSelectorMatcher()
    fc.assert(
      fc.property(
        fc.array(operation, { maxLength: 40 }),
        fc.array(fc.constantFrom(...topics), { minLength: 1, maxLength: 3 }),
        (operations, update) => {
          const index = new SubscriptionIndex<number>()
          const held = new Map<number, Set<string>>()
          for (const { add, selector, item } of operations) {
            const mine = held.get(item) ?? new Set()
            held.set(item, mine)
            assert.equal(
              add ? index.add(selector, item) : index.delete(selector, item),
              add ? !mine.has(selector) : mine.has(selector),
            )
            if (add) mine.add(selector)
            else mine.delete(selector)
          }
          const expected = [...held]
            .filter(([, mine]) => [...mine].some((s) => update.some((topic) => matches(s, topic))))
            .map(([item]) => item)
          const actual = visited(index, update)
          assert.deepEqual([...actual].sort(), expected.sort())
          assert.equal(index.size, [...held.values()].filter((mine) => mine.size > 0).length)
          assert.equal(
            index.selectorCount,
            new Set([...held.values()].flatMap((mine) => [...mine])).size,
          )
        },
      ),
      { numRuns: 2000 },
    )
  })
})

describe('SubscriptionIndex: template prefixes and budgets', () => {
  /** A matcher whose templates record the topics they are tested against. */
  function recording(calls: string[]): SelectorMatcher {
    const real = createSelectorMatcher()
    return {
      ...real,
      template(selector) {
        const template = real.template(selector)
        if (template === null) return null
        return {
          ...template,
          matches(topic: string) {
            calls.push(`${selector} ${topic}`)
            return template.matches(topic)
          },
        }
      },
    }
  }

  it('tests a template only against topics that start with its literal prefix', () => {
    const calls: string[] = []
    const index = new SubscriptionIndex<string>({ matcher: recording(calls) })
    index.add(BOOKS, 'dave')
    for (let n = 0; n < 100; n++) index.add(`https://example.com/users/${n}/{?topic}`, `user ${n}`)
    index.add('{+anything}', 'erin')
    assert.deepEqual(sorted(visited(index, [BOOK_1])), ['dave', 'erin'])
    assert.deepEqual(calls.sort(), [`${BOOKS} ${BOOK_1}`, `{+anything} ${BOOK_1}`])
    calls.length = 0
    const topic = 'https://example.com/users/42/?topic=x'
    assert.deepEqual(sorted(visited(index, [topic])), ['erin', 'user 42'])
    assert.equal(calls.length, 2)
  })

  it('keeps the most template cost one topic meets and the cost of all, identical templates once', () => {
    const index = new SubscriptionIndex<string>()
    assert.deepEqual([index.templateWork, index.templateStates], [0, 0])
    index.add(BOOKS, 'dave')
    index.add(BOOKS, 'frank')
    assert.deepEqual([index.templateWork, index.templateStates], [44, 44])
    index.add('https://example.com/users/1/{?topic}', 'erin')
    index.add('https://example.com/users/2/{?topic}', 'erin')
    // Two chains: the books prefix (44) and each user's (53); no topic meets both.
    assert.deepEqual([index.templateWork, index.templateStates], [53, 150])
    index.add('https://example.com/{+path}', 'gina')
    const path = index.templateWork - 53
    assert.ok(path > 0)
    index.delete(BOOKS, 'dave')
    assert.equal(index.templateStates, 150 + path)
    index.delete(BOOKS, 'frank')
    index.delete('https://example.com/users/1/{?topic}', 'erin')
    index.delete('https://example.com/users/2/{?topic}', 'erin')
    index.delete('https://example.com/{+path}', 'gina')
    assert.deepEqual([index.templateWork, index.templateStates], [0, 0])
  })

  it('admits selectors within the budgets, counting only templates not held yet, and changes nothing', () => {
    const index = new SubscriptionIndex<string>({ maxTemplateWork: 100, maxTemplateStates: 149 })
    assert.equal(index.admit([BOOKS, BOOK_1, '*']), null)
    index.add(BOOKS, 'dave')
    // Held already, or under another prefix: fits.
    assert.equal(index.admit([BOOKS, 'https://example.com/users/1/{?topic}']), null)
    // One chain: the root's `{+x}`, then two templates under the books prefix; more than 100.
    assert.deepEqual(index.admit(['https://example.com/books/{id}/{page}', '{+x}']), {
      budget: 'work',
      needed: 44 + templateCostOf('https://example.com/books/{id}/{page}') + templateCostOf('{+x}'),
      limit: 100,
    })
    assert.deepEqual([index.templateWork, index.templateStates], [44, 44])
    const users = Array.from({ length: 2 }, (_, n) => `https://example.com/users/${n}/{?topic}`)
    assert.deepEqual(index.admit(users), { budget: 'states', needed: 44 + 53 + 53, limit: 149 })
    assert.equal(index.admit(users.slice(1)), null)
    assert.equal(new SubscriptionIndex<string>().admit(['{+x}', ...users]), null)
  })
})

/** A template selector's cost (see template-budget.ts), through a fresh index. */
function templateCostOf(selector: string): number {
  const index = new SubscriptionIndex<string>()
  index.add(selector, 'x')
  return index.templateStates
}

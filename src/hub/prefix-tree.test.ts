import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { PrefixTree } from './prefix-tree.ts'

/** The values `forEachPrefixOf` visits, in order. */
function prefixesOf<V>(tree: PrefixTree<V>, text: string): V[] {
  const values: V[] = []
  tree.forEachPrefixOf(text, (value) => values.push(value))
  return values
}

describe('PrefixTree', () => {
  it('visits the values of every prefix of a string, shortest first', () => {
    const tree = new PrefixTree<string>()
    for (const prefix of ['', 'https://', 'https://example.com/', 'https://example.com/books/']) {
      tree.set(prefix, prefix, 1)
    }
    tree.set('https://example.com/users/', 'users', 1)
    tree.set('urn:', 'urn', 1)
    assert.deepEqual(prefixesOf(tree, 'https://example.com/books/1'), [
      '',
      'https://',
      'https://example.com/',
      'https://example.com/books/',
    ])
    assert.deepEqual(prefixesOf(tree, 'https://example.com/user'), [
      '',
      'https://',
      'https://example.com/',
    ])
    assert.deepEqual(prefixesOf(tree, 'urn:x'), ['', 'urn'])
    assert.deepEqual(prefixesOf(tree, 'http://'), [''])
    assert.equal(tree.size, 6)
  })

  it('keeps the largest sum of costs along one chain of prefixes', () => {
    const tree = new PrefixTree<string>()
    assert.equal(tree.worst, 0)
    tree.set('https://example.com/', 'a', 10)
    tree.set('https://example.com/books/', 'b', 5)
    tree.set('https://example.com/users/', 'c', 7)
    assert.equal(tree.worst, 17)
    tree.set('', 'root', 3)
    assert.equal(tree.worst, 20)
    tree.set('https://example.com/users/', 'c', 1)
    assert.equal(tree.worst, 18)
    tree.delete('https://example.com/')
    assert.equal(tree.worst, 8)
    assert.equal(tree.costOf('https://example.com/books/'), 5)
    assert.equal(tree.costOf('https://example.com/'), 0)
  })

  it('finds nothing once every prefix is deleted, and splits and merges edges as it goes', () => {
    const tree = new PrefixTree<number>()
    tree.set('abcd', 1, 1)
    tree.set('abce', 2, 2)
    tree.set('ab', 3, 4)
    assert.deepEqual(prefixesOf(tree, 'abcdz'), [3, 1])
    assert.equal(tree.delete('ab'), true)
    assert.equal(tree.delete('ab'), false)
    assert.deepEqual(prefixesOf(tree, 'abcdz'), [1])
    assert.equal(tree.delete('abce'), true)
    assert.equal(tree.get('abcd'), 1)
    assert.equal(tree.get('abc'), undefined)
    assert.equal(tree.delete('abcd'), true)
    assert.equal(tree.size, 0)
    assert.equal(tree.worst, 0)
    assert.deepEqual(prefixesOf(tree, 'abcd'), [])
  })

  it('walks in steps of its edges, not of the prefixes held', () => {
    // 10,000 sibling prefixes: a walk tests one of them, and deleting them one by one stays fast.
    const tree = new PrefixTree<number>()
    for (let i = 0; i < 10_000; i++) tree.set(`https://example.com/users/${i}/`, i, 40)
    assert.equal(tree.worst, 40)
    assert.deepEqual(prefixesOf(tree, 'https://example.com/users/42/notes'), [42])
    for (let i = 0; i < 10_000; i++) tree.delete(`https://example.com/users/${i}/`)
    assert.equal(tree.size, 0)
    assert.equal(tree.worst, 0)
  })
})

describe('PrefixTree, by property', () => {
  const strings = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), maxLength: 5 })
  const operation = fc.record({
    set: fc.boolean(),
    prefix: strings,
    cost: fc.integer({ min: 0, max: 9 }),
  })

  it('agrees with a map of prefixes scanned in full', () => {
    fc.assert(
      fc.property(fc.array(operation, { maxLength: 40 }), strings, (operations, text) => {
        const tree = new PrefixTree<string>()
        const held = new Map<string, number>()
        for (const { set, prefix, cost } of operations) {
          if (set) {
            tree.set(prefix, prefix, cost)
            held.set(prefix, cost)
          } else {
            assert.equal(tree.delete(prefix), held.delete(prefix))
          }
        }
        const chain = (end: string) =>
          [...held].filter(([p]) => end.startsWith(p)).reduce((sum, [, cost]) => sum + cost, 0)
        assert.deepEqual(
          prefixesOf(tree, text),
          [...held.keys()].filter((p) => text.startsWith(p)).sort((a, b) => a.length - b.length),
        )
        assert.equal(tree.worst, Math.max(0, ...[...held.keys()].map(chain)))
        assert.equal(tree.size, held.size)
        for (const [prefix, cost] of held) {
          assert.equal(tree.get(prefix), prefix)
          assert.equal(tree.costOf(prefix), cost)
        }
      }),
      { numRuns: 3000 },
    )
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  type DetailGrants,
  MAX_MERCURE_DETAILS,
  MAX_TOKEN_MATCHERS,
  MERCURE_DETAIL_TYPE,
  readAuthorizationDetails,
} from './authorization-details.ts'
import { EXACT_MARK, MAX_MATCH_LENGTH, URL_PATTERN_MARK } from './mercure-matcher.ts'
import { createSelectorMatcher } from './topic-selector.ts'

const HUB = 'https://hub.example/.well-known/mercure'
const NOTHING: DetailGrants = { publish: undefined, subscribe: undefined, subscribePayloads: [] }

/** A Mercure detail granting `actions` on `topics` (matcher objects), with more members. */
function mercure(actions: unknown, topics: unknown, more: object = {}): Record<string, unknown> {
  return { type: MERCURE_DETAIL_TYPE, actions, topics, ...more }
}

/** The grants of `value`, asserting it is accepted. */
function grants(value: unknown): DetailGrants {
  const result = readAuthorizationDetails(value, HUB)
  assert.ok(result.ok, result.ok ? '' : result.message)
  return result.value
}

/** Asserts `value` is refused with a message matching `message`, and returns it. */
function refusal(value: unknown, message: RegExp): string {
  const result = readAuthorizationDetails(value, HUB)
  assert.ok(!result.ok, 'refused')
  assert.match(result.message, message)
  return result.message
}

describe('readAuthorizationDetails', () => {
  it('grants nothing without the claim, with null, or with no Mercure detail', () => {
    assert.deepEqual(grants(undefined), NOTHING)
    assert.deepEqual(grants(null), NOTHING)
    assert.deepEqual(grants([]), NOTHING)
    assert.deepEqual(grants([{ type: 'payment_initiation', actions: ['publish'] }]), NOTHING)
  })

  it('reads the conformance token: publish * and subscribe *', () => {
    const value = [mercure(['publish'], [{ match: '*' }]), mercure(['subscribe'], [{ match: '*' }])]
    assert.deepEqual(grants(value), {
      publish: ['*'],
      subscribe: ['*'],
      subscribePayloads: [{ selectors: ['*'], payload: undefined }],
    })
  })

  it('refuses a claim that is not an array, and entries that are not objects', () => {
    refusal({ type: MERCURE_DETAIL_TYPE }, /authorization_details claim must be an array/)
    refusal('publish', /must be an array/)
    refusal([mercure(['publish'], [{ match: '*' }]), 'x'], /authorization_details\[1\] is not/)
    refusal([null], /authorization_details\[0\] is not a JSON object/)
    refusal([[MERCURE_DETAIL_TYPE]], /authorization_details\[0\] is not a JSON object/)
  })

  it('ignores details of any other type, compared byte for byte (property)', () => {
    const other = fc.record({
      type: fc.oneof(
        fc.string(),
        fc.constantFrom(
          MERCURE_DETAIL_TYPE.toUpperCase(),
          `${MERCURE_DETAIL_TYPE}/`,
          ` ${MERCURE_DETAIL_TYPE}`,
          'https://mercure.rocks/authorization-details',
        ),
        fc.constant(undefined),
        fc.integer(),
      ),
      actions: fc.anything(),
      topics: fc.anything(),
      payload: fc.anything(),
    })
    const good = mercure(['publish', 'subscribe'], [{ match: 'https://example.com/a' }])
    const expected = grants([good])
    fc.assert(
      fc.property(
        fc.array(other.filter((detail) => detail.type !== MERCURE_DETAIL_TYPE)),
        fc.nat(),
        (others, at) => {
          const mixed: unknown[] = [...others]
          mixed.splice(at % (others.length + 1), 0, good)
          assert.deepEqual(grants(mixed), expected)
          assert.deepEqual(grants(others), NOTHING)
        },
      ),
    )
  })

  describe('actions', () => {
    it('grants publish and subscribe by detail, in order, with each subscribe detail payload', () => {
      const value = [
        mercure(['subscribe'], [{ match: 'https://example.com/users/1' }], { payload: { a: 1 } }),
        mercure(['publish'], [{ match: 'https://example.com/a' }, { match: 'b' }]),
        mercure(['subscribe', 'publish'], [{ match: '*' }]),
      ]
      assert.deepEqual(grants(value), {
        publish: ['https://example.com/a', 'b', '*'],
        subscribe: ['https://example.com/users/1', '*'],
        subscribePayloads: [
          { selectors: ['https://example.com/users/1'], payload: { a: 1 } },
          { selectors: ['*'], payload: undefined },
        ],
      })
    })

    it('ignores unknown actions, which grant nothing and do not invalidate the token', () => {
      assert.deepEqual(grants([mercure(['read', 'PUBLISH'], [{ match: '*' }])]), NOTHING)
      assert.deepEqual(grants([mercure(['admin', 'publish'], [{ match: 'a' }])]).publish, ['a'])
    })

    it('refuses missing, empty or non-array actions, and non-string ones', () => {
      refusal([mercure(undefined, [{ match: '*' }])], /\[0\]\.actions must be a non-empty array/)
      refusal([mercure([], [{ match: '*' }])], /\.actions must be a non-empty array of strings/)
      refusal([mercure('publish', [{ match: '*' }])], /\.actions must be a non-empty array/)
      refusal([mercure(['publish', 1], [{ match: '*' }])], /\[0\]\.actions\[1\] is not a string/)
      refusal([mercure(['publish', null], [{ match: '*' }])], /actions\[1\] is not a string/)
    })
  })

  describe('topics', () => {
    const { matches } = createSelectorMatcher()

    it('refuses missing, empty or non-array topics', () => {
      refusal([mercure(['publish'], undefined)], /\[0\]\.topics must be a non-empty array/)
      refusal([mercure(['publish'], [])], /\.topics must be a non-empty array of topic matchers/)
      refusal([mercure(['publish'], { match: '*' })], /\.topics must be a non-empty array/)
    })

    it('refuses bare strings and other non-objects, whole token included', () => {
      const good = mercure(['publish'], [{ match: 'a' }])
      refusal([good, mercure(['publish'], ['*'])], /\[1\]\.topics\[0\] must be a topic matcher/)
      refusal([mercure(['subscribe'], [{ match: 'a' }, null])], /topics\[1\] must be a topic/)
      refusal([mercure(['subscribe'], [[{ match: 'a' }]])], /topics\[0\] must be a topic/)
    })

    it('refuses a missing, empty or non-string match', () => {
      refusal([mercure(['publish'], [{}])], /topics\[0\]\.match must be a non-empty string/)
      refusal([mercure(['publish'], [{ match: '' }])], /\.match must be a non-empty string/)
      refusal([mercure(['publish'], [{ match: 1 }])], /\.match must be a non-empty string/)
      refusal([mercure(['publish'], [{ match: ['*'] }])], /\.match must be a non-empty string/)
    })

    it('refuses a match with a control or formatting character, or not UTF-8', () => {
      for (const match of ['a\u0001b', 'a\nb', 'a\u0085', `${URL_PATTERN_MARK}x`, 'a\u202eb']) {
        refusal([mercure(['publish'], [{ match }])], /\.match contains a control/)
      }
      refusal([mercure(['publish'], [{ match: 'a\ud800' }])], /not valid UTF-8/)
    })

    it(`accepts a match of ${MAX_MATCH_LENGTH} characters and refuses one more`, () => {
      const match = `https://example.com/${'a'.repeat(MAX_MATCH_LENGTH - 20)}`
      assert.equal(match.length, MAX_MATCH_LENGTH)
      assert.deepEqual(grants([mercure(['publish'], [{ match }])]).publish, [match])
      refusal([mercure(['publish'], [{ match: `${match}a` }])], /longer than 2048 characters/)
      // A URL pattern that long is refused for its length before it is compiled.
      const longer = { match: `/${'b'.repeat(MAX_MATCH_LENGTH)}`, match_type: 'urlpattern' }
      refusal([mercure(['publish'], [longer])], /match is longer than 2048 characters/)
    })

    it('reads match_type case-sensitively, defaulting to exact', () => {
      const read = (topic: object) => grants([mercure(['publish'], [topic])]).publish?.[0]
      assert.equal(
        read({ match: 'https://example.com/{id}' }),
        `${EXACT_MARK}https://example.com/{id}`,
      )
      assert.equal(
        read({ match: 'https://example.com/a', match_type: 'exact' }),
        'https://example.com/a',
      )
      assert.equal(
        read({ match: '/books/:id', match_type: 'urlpattern' }),
        `${URL_PATTERN_MARK}${HUB}${URL_PATTERN_MARK}/books/:id`,
      )
      for (const type of ['URLPattern', 'Exact', 'uri_template', 'regex', '', null, 1]) {
        refusal(
          [mercure(['publish'], [{ match: 'a', match_type: type }])],
          /topics\[0\]\.match_type is not a supported matcher type/,
        )
      }
    })

    it('writes selectors that match as the type says, relative patterns against the hub URL', () => {
      const [exact, pattern] = grants([
        mercure(
          ['subscribe'],
          [
            { match: 'https://example.com/{id}' },
            { match: '/books/:id', match_type: 'urlpattern' },
          ],
        ),
      ]).subscribe as [string, string]
      assert.ok(matches(exact, 'https://example.com/{id}'))
      assert.ok(!matches(exact, 'https://example.com/1'))
      assert.ok(matches(pattern, 'https://hub.example/books/1'))
      assert.ok(!matches(pattern, 'https://other.example/books/1'))
    })

    it('takes * as the wildcard whatever the type, never compiling it as a pattern', () => {
      for (const match_type of ['exact', 'urlpattern']) {
        assert.deepEqual(grants([mercure(['publish'], [{ match: '*', match_type }])]).publish, [
          '*',
        ])
      }
    })

    it('refuses a URL pattern that does not compile', () => {
      for (const match of ['https://example.com/(', '/books/:id(\\1)', '/a/((?=x))']) {
        refusal(
          [mercure(['publish'], [{ match, match_type: 'urlpattern' }])],
          /topics\[0\]\.match: /,
        )
      }
    })
  })

  describe('payload', () => {
    it('accepts a JSON object, and refuses anything else', () => {
      const detail = (payload: unknown) => [mercure(['subscribe'], [{ match: '*' }], { payload })]
      assert.deepEqual(grants(detail({ name: 'Ada' })).subscribePayloads, [
        { selectors: ['*'], payload: { name: 'Ada' } },
      ])
      for (const payload of [null, [1], 'Ada', 1, true]) {
        refusal(detail(payload), /authorization_details\[0\]\.payload must be a JSON object/)
      }
    })
  })

  describe('limits', () => {
    const details = (count: number) =>
      Array.from({ length: count }, (_, i) => mercure(['publish'], [{ match: `t${i}` }]))

    it(`accepts ${MAX_MERCURE_DETAILS} Mercure details and refuses ${MAX_MERCURE_DETAILS + 1}`, () => {
      assert.equal(grants(details(MAX_MERCURE_DETAILS)).publish?.length, MAX_MERCURE_DETAILS)
      refusal(details(MAX_MERCURE_DETAILS + 1), /more than 100 Mercure details/)
    })

    it('does not count details of other types', () => {
      const others = Array.from({ length: 200 }, () => ({ type: 'other', topics: ['x'] }))
      assert.equal(grants([...others, ...details(MAX_MERCURE_DETAILS)]).publish?.length, 100)
    })

    it(`accepts ${MAX_TOKEN_MATCHERS} matchers across details and refuses ${MAX_TOKEN_MATCHERS + 1}`, () => {
      const topics = (from: number, count: number) =>
        Array.from({ length: count }, (_, i) => ({ match: `t${from + i}` }))
      const split = [mercure(['publish'], topics(0, 60)), mercure(['subscribe'], topics(60, 40))]
      assert.equal(grants(split).publish?.length, 60)
      assert.equal(grants(split).subscribe?.length, 40)
      const over = [mercure(['publish'], topics(0, 60)), mercure(['subscribe'], topics(60, 41))]
      refusal(over, /more than 100 topic matchers across its Mercure details/)
      refusal([mercure(['publish'], topics(0, 101))], /more than 100 topic matchers/)
    })
  })

  it('refuses the whole token for one bad Mercure detail, wherever it stands', () => {
    const good = mercure(['publish'], [{ match: '*' }])
    const bad = mercure(['publish'], [{ match: 'a', match_type: 'regex' }])
    refusal([good, bad], /authorization_details\[1\]/)
    refusal([bad, good], /authorization_details\[0\]/)
  })

  it('never quotes a value from the token in its messages', () => {
    const secret = 'https://example.com/SECRET-VALUE'
    const messages = [
      refusal([mercure(['publish'], [{ match: `${secret}\u0001` }])], /control/),
      refusal([mercure(['publish'], [{ match: secret, match_type: `${secret}` }])], /match_type/),
      refusal([mercure([secret, 1], [{ match: secret }])], /actions/),
    ]
    for (const message of messages) assert.ok(!message.includes('SECRET'), message)
  })
})

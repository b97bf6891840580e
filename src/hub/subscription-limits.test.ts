import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type SubscriptionCandidate,
  SubscriptionLimitError,
  SubscriptionLimits,
  type SubscriptionTally,
  type TemplateBudgets,
} from './subscription-limits.ts'
import type { TemplateBudgetExcess } from './template-budget.ts'

/** Template budgets that always fit, or refuse with `excess`. */
const budgets = (excess: TemplateBudgetExcess | null = null): TemplateBudgets => ({
  admit: () => excess,
})

const candidate = (
  clientAddress: string | undefined,
  tokenDigest?: string,
): SubscriptionCandidate => ({
  selectors: ['https://example.com/books/1'],
  clientAddress,
  tokenDigest,
})

function admitted(result: SubscriptionTally | SubscriptionLimitError): SubscriptionTally {
  if (result instanceof SubscriptionLimitError) assert.fail(result.message)
  return result
}

function refused(result: SubscriptionTally | SubscriptionLimitError): SubscriptionLimitError {
  assert.ok(result instanceof SubscriptionLimitError, 'refused')
  return result
}

describe('SubscriptionLimits', () => {
  it('caps the subscriptions open at once per address, and frees one as it is released', () => {
    const limits = new SubscriptionLimits(budgets(), { maxPerAddress: 2, maxPerToken: null })
    const first = admitted(limits.admit(candidate('192.0.2.1')))
    admitted(limits.admit(candidate('192.0.2.1')))
    const third = refused(limits.admit(candidate('192.0.2.1')))
    assert.equal(third.limit, 'subscriptions-per-address')
    assert.equal(third.retryAfterSeconds, 30)
    assert.match(third.message, /at most 2 may be open at once/)
    assert.doesNotMatch(third.message, /192\.0\.2\.1/)
    admitted(limits.admit(candidate('192.0.2.2')))
    limits.release(first)
    admitted(limits.admit(candidate('192.0.2.1')))
    assert.equal(limits.openFromAddress('192.0.2.1'), 2)
  })

  it('counts an IPv4-mapped address as its IPv4 one, and an IPv6 client by its /64', () => {
    const limits = new SubscriptionLimits(budgets(), { maxPerAddress: 2, maxPerToken: null })
    admitted(limits.admit(candidate('::ffff:192.0.2.1')))
    admitted(limits.admit(candidate('192.0.2.1')))
    refused(limits.admit(candidate('192.0.2.1')))
    admitted(limits.admit(candidate('2001:db8:1:2::1')))
    admitted(limits.admit(candidate('2001:db8:1:2:ffff::9')))
    refused(limits.admit(candidate('2001:db8:1:2:abcd::1')))
    admitted(limits.admit(candidate('2001:db8:1:3::1')))
  })

  it('caps the subscriptions per token digest, and leaves requests without a token to their address', () => {
    const limits = new SubscriptionLimits(budgets(), { maxPerAddress: null, maxPerToken: 1 })
    const alice = admitted(limits.admit(candidate('192.0.2.1', 'alice')))
    const again = refused(limits.admit(candidate('192.0.2.9', 'alice')))
    assert.equal(again.limit, 'subscriptions-per-token')
    assert.doesNotMatch(again.message, /alice/)
    admitted(limits.admit(candidate('192.0.2.1', 'bob')))
    admitted(limits.admit(candidate('192.0.2.1')))
    admitted(limits.admit(candidate('192.0.2.1')))
    limits.release(alice)
    admitted(limits.admit(candidate('192.0.2.1', 'alice')))
  })

  it('refuses what the template budgets refuse, and counts nothing for it', () => {
    const limits = new SubscriptionLimits(budgets({ budget: 'work', needed: 5000, limit: 4096 }), {
      maxPerAddress: 1,
      maxPerToken: null,
    })
    const error = refused(limits.admit(candidate('192.0.2.1')))
    assert.equal(error.limit, 'template-work')
    assert.match(error.message, /5000 automaton states, more than 4096/)
    assert.equal(limits.openFromAddress('192.0.2.1'), 0)
  })

  it('counts nothing without caps, and refuses caps that are not positive integers', () => {
    const limits = new SubscriptionLimits(budgets(), { maxPerAddress: null, maxPerToken: null })
    const tally = admitted(limits.admit(candidate('192.0.2.1', 'alice')))
    assert.deepEqual(tally, { address: undefined, token: undefined })
    assert.equal(limits.openFromAddress('192.0.2.1'), 0)
    assert.throws(
      () => new SubscriptionLimits(budgets(), { maxPerAddress: 0, maxPerToken: null }),
      /maxPerAddress must be a positive integer, or null for no cap; got 0/,
    )
    assert.throws(
      () => new SubscriptionLimits(budgets(), { maxPerAddress: null, maxPerToken: 1.5 }),
      RangeError,
    )
  })
})

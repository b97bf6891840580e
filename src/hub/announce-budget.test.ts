import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { AnnounceBudget, addressKey } from './announce-budget.ts'

describe('AnnounceBudget', () => {
  it('lets an address spend its burst, then what it earns per second', () => {
    let now = 0
    const budget = new AnnounceBudget({ perSecond: 10, burst: 30, now: () => now })
    assert.equal(budget.take('192.0.2.1', 20), true)
    assert.equal(budget.take('192.0.2.1', 20), false, 'only 10 left')
    assert.equal(budget.take('192.0.2.1', 10), true)
    now += 1000
    assert.equal(budget.take('192.0.2.1', 11), false, 'earned 10')
    assert.equal(budget.take('192.0.2.1', 10), true)
    now += 60_000
    assert.equal(budget.take('192.0.2.1', 30), true, 'refilled up to the burst only')
    assert.equal(budget.take('192.0.2.1', 1), false)
  })

  it('gives each address a budget of its own, and an IPv6 /64 one between its addresses', () => {
    const budget = new AnnounceBudget({ perSecond: 1, burst: 5, now: () => 0 })
    assert.equal(budget.take('192.0.2.1', 5), true)
    assert.equal(budget.take('192.0.2.2', 5), true)
    assert.equal(budget.take('2001:db8:1:2::1', 5), true)
    assert.equal(budget.take('2001:db8:1:2:ffff::9', 1), false, 'same /64')
    assert.equal(budget.take('2001:db8:1:3::1', 5), true, 'another /64')
  })

  it('charges a cost above the burst as the whole burst, so a full budget lets one through', () => {
    const budget = new AnnounceBudget({ perSecond: 1, burst: 10, now: () => 0 })
    assert.equal(budget.take('192.0.2.1', 200), true)
    assert.equal(budget.take('192.0.2.1', 1), false)
  })

  it('tracks a bounded number of addresses, forgetting full budgets first', () => {
    let now = 0
    const budget = new AnnounceBudget({ perSecond: 1, burst: 2, maxAddresses: 100, now: () => now })
    for (let i = 0; i < 100; i++) budget.take(`10.0.0.${i}`, 2)
    now += 2000 // every budget full again
    budget.take('10.0.1.1', 1)
    assert.equal(budget.size, 1)
    for (let i = 0; i < 500; i++) budget.take(`10.1.${i >> 8}.${i & 255}`, 2)
    assert.ok(budget.size <= 100)
  })

  it('refuses a rate or burst that is not a positive number', () => {
    assert.throws(() => new AnnounceBudget({ perSecond: 0, burst: 1 }), RangeError)
    assert.throws(() => new AnnounceBudget({ perSecond: 1, burst: 0 }), RangeError)
  })
})

describe('addressKey', () => {
  it('keeps IPv4 addresses, also IPv4-mapped ones, and keys IPv6 ones by their /64', () => {
    assert.equal(addressKey('192.0.2.7'), '192.0.2.7')
    assert.equal(addressKey('::ffff:192.0.2.7'), '192.0.2.7')
    assert.equal(addressKey('2001:db8:0:1::7'), '2001:db8:0:1::/64')
    assert.equal(addressKey('2001:0db8:0000:0001:aaaa:bbbb:cccc:dddd'), '2001:db8:0:1::/64')
    assert.equal(addressKey('::1'), '0:0:0:0::/64')
    assert.equal(addressKey('fe80::1%eth0'), 'fe80:0:0:0::/64')
    assert.equal(addressKey(undefined), '')
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { resumePoint, subscriptionEventId, updateReachedBy } from './subscription-announcer.ts'
import { subscriptionUpdate } from './subscription-events.ts'

describe('subscription event ids', () => {
  it('carry the id of the update their recipient had reached, whatever its characters', () => {
    const { id } = subscriptionUpdate({ subscriber: 'urn:uuid:s', topic: 'urn:t' }, true)
    assert.match(id, /^#[0-9a-f-]{36}$/)
    for (const reached of ['urn:uuid:1', 'https://example.com/a?b=c#d', 'é /%25%', '#x', '']) {
      assert.equal(updateReachedBy(subscriptionEventId(id, reached)), reached)
    }
    // A plain IRI stays as it is: the id comes back in a Last-Event-ID header.
    const reached = 'urn:uuid:0190e3a4-7b5c-7def-8000-000000000000'
    assert.equal(subscriptionEventId(id, reached), `${id}/${reached}`)
    assert.equal(subscriptionEventId(id, 'bad \ud800'), id, 'a lone surrogate names no update')
  })

  it('say "none" when the recipient had reached no update, and nothing for other ids', () => {
    const { id } = subscriptionUpdate({ subscriber: 'urn:uuid:s', topic: 'urn:t' }, false)
    assert.equal(updateReachedBy(subscriptionEventId(id, undefined)), null)
    assert.equal(updateReachedBy('urn:uuid:0190e3a4-7b5c-7def-8000-000000000000'), undefined)
    assert.equal(updateReachedBy('#not-a-uuid/x'), undefined)
    assert.equal(updateReachedBy(`${id}/%E0%A4%A`), undefined, 'bad percent-encoding')
  })
})

describe('resumePoint', () => {
  const history = new Map([['urn:u:1', '1']])
  const find = async (id: string) => history.get(id) ?? null
  const { id } = subscriptionUpdate({ subscriber: 'urn:uuid:s', topic: 'urn:t' }, true)

  it('resumes after an update of the history, or after the one a subscription event names', async () => {
    assert.deepEqual(await resumePoint(find, 'urn:u:1'), {
      after: '1',
      afterId: 'urn:u:1',
      exact: true,
    })
    assert.deepEqual(await resumePoint(find, subscriptionEventId(id, 'urn:u:1')), {
      after: '1',
      afterId: 'urn:u:1',
      exact: true,
    })
  })

  it('replays from the oldest, not exactly, for an event whose recipient had reached nothing', async () => {
    assert.deepEqual(await resumePoint(find, id), { after: null, afterId: undefined, exact: false })
  })

  it('finds nothing for an unknown id, or an event naming an update no longer retained', async () => {
    assert.equal(await resumePoint(find, 'urn:u:2'), null)
    assert.equal(await resumePoint(find, subscriptionEventId(id, 'urn:u:0')), null)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { detectGap, readGapBlock, SseGapEvent } from './gap.ts'
import { fromHeaderValue, toHeaderValue } from './header-value.ts'

describe('detectGap', () => {
  it('reports a gap when the hub answers earliest to a resumed id', () => {
    assert.deepEqual(detectGap('urn:uuid:42', 'earliest'), {
      requestedId: 'urn:uuid:42',
      hubLastEventId: 'earliest',
    })
  })

  it('reports a gap when the hub answers another id than the one sent', () => {
    assert.deepEqual(detectGap('41', '40'), { requestedId: '41', hubLastEventId: '40' })
  })

  it('reports nothing when the hub echoes the id, read back from its UTF-8 bytes', () => {
    assert.equal(detectGap('42', '42'), null)
    assert.equal(detectGap('résumé-…', toHeaderValue('résumé-…')), null)
  })

  it('reports nothing without a requested id, for earliest, or without the header', () => {
    assert.equal(detectGap('', 'earliest'), null, 'a first connection asked for nothing')
    assert.equal(detectGap('earliest', 'earliest'), null, 'the whole history was asked for')
    assert.equal(detectGap('42', null), null, 'a plain SSE server says nothing')
  })

  it('makes a non-bubbling gap event carrying both ids', () => {
    const event = new SseGapEvent({ requestedId: 'a', hubLastEventId: 'earliest' })
    assert.equal(event.type, 'gap')
    assert.equal(event.bubbles, false)
    assert.equal(event.requestedId, 'a')
    assert.equal(event.hubLastEventId, 'earliest')
  })
})

describe('readGapBlock', () => {
  it('reads the hub gap signal: the id asked for, and the newest id the block carries', () => {
    assert.deepEqual(readGapBlock('{"type":"gap","last_event_id":"urn:uuid:41"}', 'urn:uuid:99'), {
      requestedId: 'urn:uuid:41',
      hubLastEventId: 'urn:uuid:99',
    })
  })

  it('leaves subscription events and anything malformed alone', () => {
    const subscription = JSON.stringify({
      id: '/.well-known/mercure/subscriptions/exact/%2Fa/urn%3Auuid%3A1',
      type: 'subscription',
      subscriber: 'urn:uuid:1',
      match: '/a',
      match_type: 'exact',
      active: true,
      payload: { nickname: 'gap' },
    })
    assert.equal(readGapBlock(subscription, 'x'), null)
    assert.equal(readGapBlock('{"type":"gap"', 'x'), null)
    assert.equal(readGapBlock('{"type":"gap","last_event_id":7}', 'x'), null)
    assert.equal(readGapBlock('["gap"]', 'x'), null)
    assert.equal(readGapBlock('"gap"', 'x'), null)
  })
})

describe('toHeaderValue and fromHeaderValue', () => {
  it('turn U+2026 into the bytes E2 80 A6, one character per byte, and back', () => {
    assert.equal(toHeaderValue('…'), '\xE2\x80\xA6')
    assert.equal(fromHeaderValue('\xE2\x80\xA6'), '…')
  })

  it('round-trip any well-formed string through a byte string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const value = toHeaderValue(text)
        const bytes = [...value].every((char) => char.charCodeAt(0) <= 0xff)
        return bytes && fromHeaderValue(value) === text
      }),
    )
  })

  it('leaves a value that is already decoded text as it is', () => {
    assert.equal(fromHeaderValue('résumé-…'), 'résumé-…')
  })
})

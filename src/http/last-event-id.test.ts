import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { readLastEventId, utf8HeaderValue } from './last-event-id.ts'

describe('readLastEventId', () => {
  it('turns the latin1 view Node gives back into the UTF-8 the client sent', () => {
    const onTheWire = Buffer.from('urn:uuid:…/é/😀', 'utf8').toString('latin1')
    assert.equal(readLastEventId({ 'last-event-id': onTheWire }), 'urn:uuid:…/é/😀')
  })

  it('keeps plain ASCII ids as they are', () => {
    assert.equal(readLastEventId({ 'last-event-id': 'abc-123' }), 'abc-123')
  })

  it('returns undefined when the header is absent and an empty string when it is empty', () => {
    assert.equal(readLastEventId({}), undefined)
    assert.equal(readLastEventId({ 'last-event-id': '' }), '')
  })

  it('replaces bytes that are not UTF-8 with U+FFFD instead of failing', () => {
    assert.equal(readLastEventId({ 'last-event-id': '\xff' }), '\ufffd')
  })
})

describe('utf8HeaderValue', () => {
  it('passes the UTF-8 bytes of the text, one latin1 char each, as Node writes them', () => {
    const value = utf8HeaderValue('urn:uuid:…/é/😀')
    assert.deepEqual(Buffer.from(value, 'latin1'), Buffer.from('urn:uuid:…/é/😀', 'utf8'))
    assert.equal(readLastEventId({ 'last-event-id': value }), 'urn:uuid:…/é/😀')
  })

  it('keeps plain ASCII as it is', () => {
    assert.equal(utf8HeaderValue('earliest'), 'earliest')
  })
})

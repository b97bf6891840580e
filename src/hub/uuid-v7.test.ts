import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { uuidV7 } from './uuid-v7.ts'

describe('uuidV7', () => {
  it('has the UUIDv7 layout: version 7, RFC 9562 variant, the time in front', () => {
    const id = uuidV7(0x0190_1234_5678)
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    assert.equal(id.slice(0, 13).replace('-', ''), '019012345678')
  })

  it('sorts in creation order, also within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => uuidV7(1_800_000_000_000))
    assert.deepEqual([...ids].sort(), ids)
    assert.equal(new Set(ids).size, ids.length)
  })
})

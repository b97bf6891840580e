import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createEncodedUpdates } from './encoded-updates.ts'
import type { StoredUpdate } from './update.ts'

/** The hub's bound (hub.ts `ENCODED_CACHE_BYTES`). */
const MAX_BYTES = 8 * 1024 * 1024

function update(n: number, payloadBytes: number): StoredUpdate {
  return {
    id: `urn:uuid:${String(n).padStart(8, '0')}`,
    topics: ['https://example.com/t'],
    data: 'x'.repeat(payloadBytes),
    private: false,
    cursor: String(n),
    time: 0,
  }
}

describe('createEncodedUpdates', () => {
  it('holds at most maxBytes past the bound with KiB-sized updates, the oldest going first', () => {
    const encode = createEncodedUpdates(MAX_BYTES)
    const updates: StoredUpdate[] = []
    const first: Uint8Array[] = []
    // 3× the bound in 4 KiB updates: thousands of evictions (past the order list's compaction).
    const total = Math.ceil((3 * MAX_BYTES) / 4096)
    for (let n = 0; n < total; n++) {
      const u = update(n, 4096 - 64)
      updates.push(u)
      first.push(encode(u))
    }
    const size = (first[0] as Uint8Array).byteLength
    for (const bytes of first) assert.equal(bytes.byteLength, size)
    const kept = Math.floor(MAX_BYTES / size)
    assert.ok(kept > 1000 && kept < total)
    // The newest `kept` are held (a hit returns the same bytes, encoded once): kept × size ≤ 8 MiB.
    for (let n = total - kept; n < total; n++) {
      assert.equal(encode(updates[n] as StoredUpdate), first[n], `update ${n} held`)
    }
    assert.ok(kept * size <= MAX_BYTES)
    // The one just older was evicted: encoding it again makes new bytes.
    const evicted = total - kept - 1
    const again = encode(updates[evicted] as StoredUpdate)
    assert.notEqual(again, first[evicted])
    assert.deepEqual(again, first[evicted])
    // Its return evicted the oldest held one, and only that one.
    assert.notEqual(encode(updates[total - kept] as StoredUpdate), first[total - kept])
    assert.equal(encode(updates[total - 1] as StoredUpdate), first[total - 1])
  })

  it('encodes once for a replay storm over a full cache', () => {
    const encode = createEncodedUpdates(MAX_BYTES)
    const total = Math.ceil((2 * MAX_BYTES) / 1024)
    const updates = Array.from({ length: total }, (_, n) => update(n, 1000))
    const live = updates.map((u) => encode(u))
    const kept = Math.floor(MAX_BYTES / (live[0] as Uint8Array).byteLength)
    // 200 subscribers replaying the newest 500 updates get the bytes the live dispatch made.
    for (let s = 0; s < 200; s++) {
      for (let n = total - 500; n < total; n++) {
        assert.equal(encode(updates[n] as StoredUpdate), live[n])
      }
    }
    assert.ok(kept >= 500)
  })

  it('does not hold an update larger than the bound', () => {
    const encode = createEncodedUpdates(1024)
    const big = update(0, 4096)
    const bytes = encode(big)
    // Over the bound on its own: not held.
    assert.notEqual(encode(big), bytes)
  })
})

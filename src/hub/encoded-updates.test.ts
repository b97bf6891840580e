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
    const { replay: encode } = createEncodedUpdates(MAX_BYTES)
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
    const { replay } = createEncodedUpdates(MAX_BYTES)
    const total = Math.ceil((2 * MAX_BYTES) / 1024)
    const updates = Array.from({ length: total }, (_, n) => update(n, 1000))
    // The cache full of older replays, 2× its bound of them.
    for (const u of updates.slice(0, total - 500)) replay(u)
    // 200 subscribers replaying the newest 500 updates: the first encodes, the others get its bytes.
    const first = updates.slice(total - 500).map((u) => replay(u))
    for (let s = 1; s < 200; s++) {
      for (let n = total - 500; n < total; n++) {
        assert.equal(replay(updates[n] as StoredUpdate), first[n - (total - 500)])
      }
    }
  })

  it('holds nothing for the live dispatch, and gives it the bytes replays hold', () => {
    const { live, replay } = createEncodedUpdates(MAX_BYTES)
    const u = update(1, 1000)
    const once = live(u)
    assert.deepEqual(once, replay(update(1, 1000)))
    // Not held by live(): the replay above encoded its own, and live() now gets those.
    const held = replay(u)
    assert.notEqual(held, once)
    assert.equal(live(u), held)
    // An update no replay read is encoded anew on each live call (never held), byte for byte alike.
    const other = update(2, 1000)
    const a = live(other)
    const b = live(other)
    assert.notEqual(a, b)
    assert.deepEqual(a, b)
    // A full cache of 4 KiB updates dispatched live holds none of them: a replay encodes them.
    const many = Array.from({ length: Math.ceil((2 * MAX_BYTES) / 4096) }, (_, n) =>
      update(10 + n, 4096),
    )
    const livened = many.map((m) => live(m))
    assert.notEqual(replay(many.at(-1) as StoredUpdate), livened.at(-1))
  })

  it('does not hold an update larger than the bound', () => {
    const { replay: encode } = createEncodedUpdates(1024)
    const big = update(0, 4096)
    const bytes = encode(big)
    // Over the bound on its own: not held.
    assert.notEqual(encode(big), bytes)
  })
})

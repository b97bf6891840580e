import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { EventStore } from '../src/hub/event-store.ts'
import type { StoredUpdate, Update } from '../src/hub/update.ts'
import type { RetentionOptions } from '../src/storage/retention.ts'
import { compareCursors, getVariedUpdates, makeUpdate } from './helpers/store-updates.ts'

/** Runs `test` on a fresh store with these retention options, and cleans up after it. */
export type WithStore = (
  retention: RetentionOptions | undefined,
  test: (store: EventStore) => Promise<void>,
) => Promise<void>

/**
 * The part of the {@link EventStore} contract about ids used more than once (Mercure draft-08:
 * ids SHOULD be unique, the hub accepts duplicates): an identical resend is a retry, stored once;
 * a reused id with other content is a new update; a cursor naming a reused id resolves to the
 * earliest retained update with it. Registered by `registerStoreTests` for every store.
 */
export function registerReusedIdTests(name: string, withStore: WithStore): void {
  describe(`reused ids (${name})`, () => {
    it('resolves an identical retry with the stored update, and stores and delivers nothing', async () => {
      await withStore(undefined, async (store) => {
        const delivered = collect(store)
        const stored: StoredUpdate[] = []
        for (const update of getVariedUpdates()) stored.push(await store.append(update))
        const head = store.head()
        // Fresh objects with the same fields, as a publisher resending its form would make.
        for (const [i, update] of getVariedUpdates().entries()) {
          const retried = await store.append({ ...update, topics: [...update.topics] })
          assert.deepEqual(retried, stored[i], `the retry of ${update.id}: same cursor`)
        }
        assert.deepEqual(delivered, stored, 'listeners saw each update once')
        assert.equal(store.head(), head)
        assert.equal(store.headId(), stored.at(-1)?.id)
        assert.equal(await store.size(), stored.length)
        assert.deepEqual(await store.read(null, headOf(store), 100), stored)
      })
    })

    it('stores an update reusing a retained id with other content as a new one, and delivers it', async () => {
      await withStore(undefined, async (store) => {
        const original: Update = {
          id: 'taken',
          topics: ['urn:a', 'urn:b'],
          data: 'original',
          private: false,
          type: 'kind',
          retry: 100,
        }
        const stored = await store.append(original)
        const delivered = collect(store)
        const others: Update[] = [
          { ...original, data: 'other data' },
          { ...original, topics: ['urn:b', 'urn:a'] },
          { ...original, topics: ['urn:a'] },
          { ...original, private: true },
          { ...original, type: undefined },
          { ...original, type: 'other' },
          { ...original, retry: undefined },
          { ...original, retry: 200 },
        ]
        const reused: StoredUpdate[] = []
        for (const other of others) reused.push(await store.append(other))
        assertIncreasing([stored, ...reused])
        assert.deepEqual(delivered, reused, 'each delivered once, in order')
        assert.equal(store.head(), reused.at(-1)?.cursor)
        assert.equal(store.headId(), 'taken')
        assert.deepEqual(await store.read(null, headOf(store), 100), [stored, ...reused])
        assert.equal(await store.find('taken'), stored.cursor, 'the earliest')
      })
    })

    it('resolves a retry of any retained update with a reused id, not only the newest', async () => {
      await withStore(undefined, async (store) => {
        const versions = ['v1', 'v2', 'v3'].map((data) => ({ ...makeUpdate('same'), data }))
        const stored: StoredUpdate[] = []
        for (const update of versions) stored.push(await store.append(update))
        const delivered = collect(store)
        for (const [i, update] of versions.entries()) {
          assert.deepEqual(await store.append({ ...update }), stored[i], `the retry of ${i}`)
        }
        assert.deepEqual(delivered, [])
        assert.equal(await store.size(), 3)
      })
    })

    it('treats an id repeated within one group commit alike', async () => {
      await withStore(undefined, async (store) => {
        const delivered = collect(store)
        const other = { ...makeUpdate('x'), data: 'other' }
        const results = await Promise.all([
          store.append(makeUpdate('x')),
          store.append(makeUpdate('y')),
          store.append(makeUpdate('x')),
          store.append(other),
          store.append(makeUpdate('z')),
          store.append({ ...other }),
        ])
        const [x, y, retry, reused, z, retryOfReused] = results
        assert.deepEqual(retry, x, 'the retry resolves with the first')
        assert.deepEqual(retryOfReused, reused, 'and the retry of the reuse with the reuse')
        const stored = [x, y, reused, z] as StoredUpdate[]
        assertIncreasing(stored)
        assert.deepEqual(idsOf(stored), ['x', 'y', 'x', 'z'])
        assert.deepEqual(delivered, stored, 'each delivered once')
        assert.deepEqual(await store.read(null, headOf(store), 100), stored)
      })
    })

    it('resolves a cursor at a reused id to the earliest; what follows it includes later reuses', async () => {
      await withStore(undefined, async (store) => {
        const stored: StoredUpdate[] = []
        for (const [id, data] of [
          ['a', '1'],
          ['r', 'first'],
          ['b', '2'],
          ['r', 'second'],
          ['c', '3'],
          ['r', 'third'],
        ]) {
          stored.push(await store.append({ ...makeUpdate(id as string), data: data as string }))
        }
        const cursor = await store.find('r')
        assert.equal(cursor, stored[1]?.cursor)
        const replay = await store.read(cursor, headOf(store), 100)
        assert.deepEqual(
          replay.map((update) => `${update.id} ${update.data}`),
          ['b 2', 'r second', 'c 3', 'r third'],
        )
      })
    })

    it('resolves a reused id to the earliest retained update once the earliest left', async () => {
      await withStore({ maxUpdates: 3 }, async (store) => {
        const first = await store.append({ ...makeUpdate('r'), data: 'first' })
        await store.append(makeUpdate('x'))
        const second = await store.append({ ...makeUpdate('r'), data: 'second' })
        assert.equal(await store.find('r'), first.cursor)
        const y = await store.append(makeUpdate('y'))
        assert.equal(await store.find('r'), second.cursor, 'the first left: the second')
        assert.deepEqual(await store.read(second.cursor, headOf(store), 100), [y])
        // A resend of the update that left is not a retry of anything retained: stored anew.
        const again = await store.append({ ...makeUpdate('r'), data: 'first' })
        assertIncreasing([y, again])
        assert.equal(await store.find('r'), second.cursor)
        await store.append(makeUpdate('z'))
        assert.equal(await store.find('r'), again.cursor)
        await store.append(makeUpdate('w'))
        await store.append(makeUpdate('v'))
        assert.equal(await store.find('r'), null)
      })
    })

    it('keeps 3,000 updates of 3 KiB with 300 reused ids apart, retries stored once', async () => {
      await withStore({ maxUpdates: 2000 }, async (store) => {
        const delivered = collect(store)
        // Every tenth update reuses one of 5 ids (60 times each), with other content each time.
        const updates = Array.from({ length: 3000 }, (_, n): Update => {
          const id = n % 10 === 0 ? `hot-${(n / 10) % 5}` : `u-${n}`
          return {
            ...makeUpdate(id),
            data: `${n} `.padEnd(3072, String.fromCharCode(97 + (n % 26))),
          }
        })
        const stored: StoredUpdate[] = []
        for (let at = 0; at < updates.length; at += 100) {
          stored.push(
            ...(await Promise.all(updates.slice(at, at + 100).map((u) => store.append(u)))),
          )
        }
        assertIncreasing(stored)
        assert.equal(delivered.length, 3000)
        const retained = stored.slice(-2000)
        assert.equal(await store.size(), 2000)
        // Resent: the retained reuses of a hot id and a sample of the rest, all in one go.
        const resent = retained.filter((u, n) => u.id.startsWith('hot-') || n % 97 === 0)
        const retried = await Promise.all(resent.map(({ cursor, time, ...u }) => store.append(u)))
        assert.deepEqual(retried, resent, 'each retry resolves with the update it repeats')
        assert.equal(delivered.length, 3000, 'and nothing more is delivered')
        for (let k = 0; k < 5; k++) {
          const id = `hot-${k}`
          const earliest = retained.find((u) => u.id === id) as StoredUpdate
          assert.equal(await store.find(id), earliest.cursor, `find(${id})`)
          const after = retained.filter((u) => compareCursors(u.cursor, earliest.cursor) > 0)
          const replay: StoredUpdate[] = []
          for (let from = earliest.cursor; ; ) {
            const page = await store.read(from, headOf(store), 500)
            if (page.length === 0) break
            replay.push(...page)
            from = (page.at(-1) as StoredUpdate).cursor
          }
          assert.deepEqual(cursorsOf(replay), cursorsOf(after), `the replay after ${id}`)
          assert.equal(retained.filter((u) => u.id === id).length, 40)
          assert.equal(replay.filter((u) => u.id === id).length, 39, 'the later reuses')
        }
      })
    })
  })
}

/** The updates `store` delivers from now on, in order. */
function collect(store: EventStore): StoredUpdate[] {
  const delivered: StoredUpdate[] = []
  store.onCommit((updates) => delivered.push(...updates))
  return delivered
}

function assertIncreasing(updates: readonly (StoredUpdate | undefined)[]): void {
  for (let i = 1; i < updates.length; i++) {
    const [before, after] = [updates[i - 1]?.cursor ?? '', updates[i]?.cursor ?? '']
    assert.ok(compareCursors(before, after) < 0, `cursor ${i} after cursor ${i - 1}`)
  }
}

function idsOf(updates: readonly (StoredUpdate | undefined)[]): Array<string | undefined> {
  return updates.map((update) => update?.id)
}

function cursorsOf(updates: readonly StoredUpdate[]): string[] {
  return updates.map((update) => update.cursor)
}

function headOf(store: EventStore): string {
  const head = store.head()
  assert.ok(head !== null, 'the store has a head')
  return head
}

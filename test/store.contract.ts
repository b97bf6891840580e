import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { EventStore } from '../src/hub/event-store.ts'
import type { StoredUpdate, Update } from '../src/hub/update.ts'
import type { RetentionOptions } from '../src/storage/retention.ts'
import { sleep } from './helpers/raw-sse.ts'
import { compareCursors, getVariedUpdates, makeUpdate } from './helpers/store-updates.ts'
import { registerReusedIdTests } from './store-reused-ids.contract.ts'

export { compareCursors, getVariedUpdates, makeUpdate }

/** One store under test, made by the factory given to {@link registerStoreTests}. */
export interface StoreFixture {
  /** A fresh, empty store. */
  store: EventStore
  /**
   * Opens the same storage again, once the contract has closed `store` (and any store this
   * returned before). Omit it for stores that keep nothing across a restart.
   */
  reopen?: () => Promise<EventStore>
  /** Closes whatever is still open and removes every file the fixture made. */
  cleanup: () => Promise<void>
}

/** Makes a fresh store with these retention options (the store's defaults when omitted). */
export type CreateStore = (retention?: RetentionOptions) => Promise<StoreFixture>

/**
 * Registers the behaviour every {@link EventStore} must have, once, for the store that `create`
 * makes (as `eventsource` runs one `registerTests` on each runtime). Cursors are compared as
 * dash-separated unsigned integers, which covers decimal sequence numbers and Redis stream ids.
 */
export function registerStoreTests(
  name: string,
  create: CreateStore,
  capabilities: { durable: boolean },
): void {
  async function withStore(
    retention: RetentionOptions | undefined,
    run: (store: EventStore, fixture: StoreFixture) => Promise<void>,
  ): Promise<void> {
    const fixture = await create(retention)
    try {
      await run(fixture.store, fixture)
    } finally {
      await fixture.cleanup()
    }
  }

  describe(`${name} store (EventStore contract)`, () => {
    describe('#append', () => {
      it('resolves with the stored update: the same fields, a cursor and the commit time', async () => {
        await withStore(undefined, async (store) => {
          for (const update of getVariedUpdates()) {
            const before = Date.now()
            const stored = await store.append(update)
            const after = Date.now()
            assert.deepEqual(withoutUndefined(stored), {
              ...withoutUndefined(update),
              cursor: stored.cursor,
              time: stored.time,
            })
            assert.equal(typeof stored.cursor, 'string')
            assert.ok(Number.isInteger(stored.time), 'time is whole milliseconds')
            assert.ok(before <= stored.time && stored.time <= after, 'time is the commit time')
            if (update.retry === undefined) assert.equal(stored.retry, undefined)
            if (update.type === undefined) assert.equal(stored.type, undefined)
          }
        })
      })

      it('keeps every field exactly when the update is read back', async () => {
        await withStore(undefined, async (store) => {
          const stored: StoredUpdate[] = []
          for (const update of getVariedUpdates()) stored.push(await store.append(update))
          const read = await store.read(null, headOf(store), 100)
          assert.deepEqual(read.map(withoutUndefined), stored.map(withoutUndefined))
        })
      })

      it('gives strictly increasing cursors', async () => {
        await withStore(undefined, async (store) => {
          let previous: string | null = null
          for (let i = 0; i < 50; i++) {
            // Some awaited one by one, some together: both must order the same way.
            const batch = await Promise.all(
              Array.from({ length: (i % 4) + 1 }, (_, j) => store.append(makeUpdate(`u${i}-${j}`))),
            )
            for (const { cursor } of batch) {
              if (previous !== null) assert.ok(compareCursors(previous, cursor) < 0)
              previous = cursor
            }
          }
        })
      })

      it('resolves 1000 concurrent appends, delivered once each, in order, with no gap', async () => {
        await withStore(undefined, async (store) => {
          const delivered: StoredUpdate[] = []
          store.onCommit((updates) => delivered.push(...updates))
          const ids = Array.from({ length: 1000 }, (_, i) => `concurrent-${i}`)
          const stored = await Promise.all(ids.map((id) => store.append(makeUpdate(id))))
          assert.deepEqual(idsOf(stored), ids, 'each append resolves with its own update')
          const inCursorOrder = [...stored].sort((a, b) => compareCursors(a.cursor, b.cursor))
          assert.deepEqual(cursorsOf(delivered), cursorsOf(inCursorOrder))
          assert.equal(new Set(idsOf(delivered)).size, 1000)
          // No gap: history holds exactly what was delivered, nothing in between.
          const read = await store.read(null, headOf(store), 2000)
          assert.deepEqual(cursorsOf(read), cursorsOf(delivered))
        })
      })

      it('rejects with store-unavailable once the store is closed', async () => {
        await withStore(undefined, async (store) => {
          await store.close()
          await assert.rejects(store.append(makeUpdate('late')), {
            code: 'store-unavailable',
            outcome: 'not-stored',
          })
        })
      })
    })

    describe('#onCommit', () => {
      it('calls each listener exactly once per update, in cursor order, in batches', async () => {
        await withStore(undefined, async (store) => {
          const first: (readonly StoredUpdate[])[] = []
          const second: StoredUpdate[] = []
          store.onCommit((updates) => first.push(updates))
          store.onCommit((updates) => second.push(...updates))
          const stored = await Promise.all(
            ['a', 'b', 'c', 'd', 'e'].map((id) => store.append(makeUpdate(id))),
          )
          stored.push(await store.append(makeUpdate('f')))
          for (const batch of first) assert.ok(batch.length > 0, 'no empty batch')
          assert.deepEqual(first.flat(), stored)
          assert.deepEqual(second, stored)
        })
      })

      it('has head() null at first, then at the last delivered cursor while listeners run', async () => {
        await withStore(undefined, async (store) => {
          assert.equal(store.head(), null)
          let last: string | undefined
          const failures: unknown[] = []
          store.onCommit((updates) => {
            last = updates.at(-1)?.cursor
            // Asserted at the moment listeners run, and kept to fail the test below: a store
            // need not let a listener's exception reach the test.
            try {
              assert.equal(store.head(), last)
            } catch (error) {
              failures.push(error)
            }
          })
          await Promise.all(['a', 'b', 'c'].map((id) => store.append(makeUpdate(id))))
          await store.append(makeUpdate('d'))
          if (failures.length > 0) throw failures[0]
          assert.notEqual(last, undefined)
          assert.equal(store.head(), last)
        })
      })

      it('stops calling a listener once it unregisters', async () => {
        await withStore(undefined, async (store) => {
          const seen: string[] = []
          const stop = store.onCommit((updates) => seen.push(...idsOf(updates)))
          await store.append(makeUpdate('before'))
          stop()
          await store.append(makeUpdate('after'))
          assert.deepEqual(seen, ['before'])
        })
      })

      it('gives a listener registered during a dispatch only the batches after it', async () => {
        await withStore(undefined, async (store) => {
          const late: string[] = []
          let registered = false
          store.onCommit(() => {
            if (registered) return
            registered = true
            // The hub registers and snapshots head() in one step: what head() already covers
            // must not reach the new listener again.
            store.onCommit((updates) => late.push(...idsOf(updates)))
          })
          await store.append(makeUpdate('first'))
          await store.append(makeUpdate('second'))
          assert.deepEqual(late, ['second'])
        })
      })
    })

    describe('#headId', () => {
      it('is null while empty, then the id of the update at head(), moving with it', async () => {
        await withStore(undefined, async (store) => {
          assert.equal(store.headId(), null)
          const failures: unknown[] = []
          store.onCommit((updates) => {
            // Kept to fail the test below: a store need not let a listener's exception through.
            try {
              assert.equal(store.headId(), updates.at(-1)?.id)
            } catch (error) {
              failures.push(error)
            }
          })
          await store.append(makeUpdate('first'))
          assert.equal(store.headId(), 'first')
          const batch = await Promise.all(['a', 'b', 'c'].map((id) => store.append(makeUpdate(id))))
          const newest = [...batch].sort((x, y) => compareCursors(x.cursor, y.cursor)).at(-1)
          assert.equal(store.headId(), newest?.id)
          if (failures.length > 0) throw failures[0]
        })
      })
    })

    registerReusedIdTests(name, withStore)

    describe('#find', () => {
      it('returns the cursor of a stored id, and null for an unknown one', async () => {
        await withStore(undefined, async (store) => {
          await store.append(makeUpdate('a'))
          const b = await store.append(makeUpdate('b'))
          await store.append(makeUpdate('c'))
          assert.equal(await store.find('b'), b.cursor)
          assert.equal(await store.find('nope'), null)
        })
      })

      it('returns the cursor of the first append of an id, also after an identical retry', async () => {
        await withStore(undefined, async (store) => {
          const first = await store.append(makeUpdate('twin'))
          await store.append(makeUpdate('other'))
          await store.append(makeUpdate('twin'))
          assert.equal(await store.find('twin'), first.cursor)
        })
      })
    })

    describe('#read', () => {
      /** Runs `test` on a store holding updates a to e, with their cursors. */
      async function withFive(
        test: (store: EventStore, cursors: readonly string[]) => Promise<void>,
      ): Promise<void> {
        await withStore(undefined, async (store) => {
          const stored: StoredUpdate[] = []
          for (const id of 'abcde') stored.push(await store.append(makeUpdate(id)))
          await test(store, cursorsOf(stored))
        })
      }

      it('reads from the oldest retained update when after is null', async () => {
        await withFive(async (store) => {
          assert.deepEqual(idsOf(await store.read(null, headOf(store), 100)), [...'abcde'])
        })
      })

      it('reads only the updates after the given cursor', async () => {
        await withFive(async (store, [, b = '']) => {
          assert.deepEqual(idsOf(await store.read(b, headOf(store), 100)), ['c', 'd', 'e'])
        })
      })

      it('stops at upTo, included', async () => {
        await withFive(async (store, [a = '', , , d = '']) => {
          assert.deepEqual(idsOf(await store.read(a, d, 100)), ['b', 'c', 'd'])
        })
      })

      it('returns at most limit updates, the oldest first', async () => {
        await withFive(async (store) => {
          assert.deepEqual(idsOf(await store.read(null, headOf(store), 2)), ['a', 'b'])
        })
      })

      it('returns nothing after the head', async () => {
        await withFive(async (store) => {
          assert.deepEqual(await store.read(headOf(store), headOf(store), 100), [])
        })
      })
    })

    describe('retention', () => {
      it('keeps only the newest maxUpdates updates', async () => {
        await withStore({ maxUpdates: 3 }, async (store) => {
          for (const id of ['a', 'b', 'c', 'd', 'e']) await store.append(makeUpdate(id))
          assert.equal(await store.size(), 3)
          const read = await store.read(null, headOf(store), 100)
          assert.deepEqual(idsOf(read), ['c', 'd', 'e'])
          assert.equal(await store.find('a'), null)
          assert.equal(await store.find('b'), null)
          assert.equal(await store.find('c'), read[0]?.cursor)
        })
      })

      it('lets an id be used again, with other content, once its update was dropped', async () => {
        await withStore({ maxUpdates: 3 }, async (store) => {
          const first = await store.append(makeUpdate('reused'))
          for (const id of ['x', 'y', 'z']) await store.append(makeUpdate(id))
          const again = await store.append({ ...makeUpdate('reused'), data: 'new content' })
          assert.ok(compareCursors(first.cursor, again.cursor) < 0, 'stored anew')
          assert.equal(again.data, 'new content')
          assert.equal(await store.find('reused'), again.cursor)
          assert.deepEqual(idsOf(await store.read(null, headOf(store), 100)), ['y', 'z', 'reused'])
        })
      })

      it('lets an id be used again once its update expired (maxAgeMs)', async () => {
        await withStore({ maxAgeMs: 300 }, async (store) => {
          const first = await store.append(makeUpdate('reused'))
          await sleep(450)
          const again = await store.append({ ...makeUpdate('reused'), data: 'new content' })
          assert.ok(compareCursors(first.cursor, again.cursor) < 0, 'stored anew')
          assert.equal(await store.find('reused'), again.cursor)
        })
      })

      it('drops updates older than maxAgeMs, even with no append since', async () => {
        await withStore({ maxAgeMs: 300 }, async (store) => {
          await store.append(makeUpdate('old-1'))
          const old = await store.append(makeUpdate('old-2'))
          await sleep(450)
          assert.equal(await store.size(), 0)
          assert.equal(await store.find('old-1'), null)
          assert.deepEqual(await store.read(null, headOf(store), 100), [])
          assert.equal(store.head(), old.cursor, 'head() stays: it is the newest ever delivered')
          const fresh = await store.append(makeUpdate('fresh'))
          assert.ok(compareCursors(old.cursor, fresh.cursor) < 0)
          assert.equal(await store.size(), 1)
          assert.deepEqual(await store.read(null, headOf(store), 100), [fresh])
        })
      })
    })

    describe('model', () => {
      it('answers append, find, read and size like a plain list, for any appends and maxUpdates', async () => {
        // Appends come in groups made concurrently (one group = one tick), with ids and contents
        // drawn from small sets so retries and reused ids are common. The model is the list of
        // what was stored: an append identical to one of its last maxUpdates when the append
        // comes (in order, also within a group) is a retry; any other is stored, a reused id too.
        const version = fc.constantFrom('v1', 'v2')
        const scenario = fc.record({
          maxUpdates: fc.integer({ min: 1, max: 12 }),
          groups: fc.array(
            fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', 'd', 'e'), version), {
              maxLength: 6,
            }),
            { maxLength: 8 },
          ),
          after: fc.nat(),
          upTo: fc.nat(),
          limit: fc.integer({ min: 0, max: 15 }),
        })
        await fc.assert(
          fc.asyncProperty(scenario, async ({ maxUpdates, groups, after, upTo, limit }) => {
            await withStore({ maxUpdates }, async (store) => {
              const model: StoredUpdate[] = []
              for (const group of groups) {
                const updates = group.map(([id, data]) => ({ ...makeUpdate(id), data }))
                const results = await Promise.allSettled(updates.map((u) => store.append(u)))
                for (const [i, result] of results.entries()) {
                  const update = updates[i] as Update
                  const same = model
                    .slice(-maxUpdates)
                    .find((u) => u.id === update.id && u.data === update.data)
                  if (same === undefined) {
                    assert.equal(result.status, 'fulfilled', `append ${i} of ${update.id} stored`)
                    model.push((result as PromiseFulfilledResult<StoredUpdate>).value)
                  } else {
                    assert.deepEqual(result, { status: 'fulfilled', value: same }, 'a retry')
                  }
                }
              }
              const retained = model.slice(-maxUpdates)
              assert.equal(await store.size(), retained.length)
              if (retained.length === 0) return
              const head = headOf(store)
              assert.deepEqual(await store.read(null, head, 100), retained)
              for (const id of ['a', 'b', 'c', 'd', 'e']) {
                const first = retained.find((update) => update.id === id)
                assert.equal(await store.find(id), first?.cursor ?? null, `find(${id})`)
              }
              // A window anywhere in the history, also starting before the oldest retained.
              const from = model[after % model.length] as StoredUpdate
              const to = model[upTo % model.length] as StoredUpdate
              const expected = retained
                .filter((u) => compareCursors(u.cursor, from.cursor) > 0)
                .filter((u) => compareCursors(u.cursor, to.cursor) <= 0)
                .slice(0, limit)
              assert.deepEqual(await store.read(from.cursor, to.cursor, limit), expected)
            })
          }),
          { numRuns: 40 },
        )
      })
    })

    describe('#size', () => {
      it('counts the retained updates', async () => {
        await withStore(undefined, async (store) => {
          assert.equal(await store.size(), 0)
          await Promise.all(['a', 'b', 'c'].map((id) => store.append(makeUpdate(id))))
          assert.equal(await store.size(), 3)
        })
      })
    })

    describe('#ready', () => {
      it('is true while the store is open and false once it is closed', async () => {
        await withStore(undefined, async (store) => {
          assert.equal(await store.ready(), true)
          await store.close()
          assert.equal(await store.ready(), false)
        })
      })

      it('probes without touching the history: no update, no cursor, no listener call', async () => {
        await withStore(undefined, async (store) => {
          const stored = await store.append(makeUpdate('a'))
          let calls = 0
          store.onCommit(() => calls++)
          for (let i = 0; i < 3; i++) assert.equal(await store.ready(), true)
          assert.equal(calls, 0)
          assert.equal(store.head(), stored.cursor)
          assert.equal(store.headId(), 'a')
          assert.equal(await store.size(), 1)
          const next = await store.append(makeUpdate('b'))
          assert.deepEqual(idsOf(await store.read(null, next.cursor, 10)), ['a', 'b'])
        })
      })
    })

    describe('#close', () => {
      it('commits the appends made before it, then refuses new ones; twice is fine', async () => {
        await withStore(undefined, async (store) => {
          const delivered: string[] = []
          store.onCommit((updates) => delivered.push(...idsOf(updates)))
          const pending = ['a', 'b', 'c'].map((id) => store.append(makeUpdate(id)))
          await Promise.all([store.close(), store.close()])
          const stored = await Promise.all(pending)
          assert.deepEqual(idsOf(stored), ['a', 'b', 'c'])
          assert.deepEqual(delivered, ['a', 'b', 'c'])
          await assert.rejects(store.append(makeUpdate('d')), { code: 'store-unavailable' })
        })
      })

      it('keeps delivery in order when a listener appends and then closes the store', async () => {
        await withStore(undefined, async (store) => {
          const seen: string[] = []
          let late: Promise<StoredUpdate> | undefined
          let closed: Promise<void> | undefined
          store.onCommit(() => {
            if (closed !== undefined) return
            late = store.append(makeUpdate('late'))
            closed = store.close()
          })
          store.onCommit((updates) => seen.push(...idsOf(updates)))
          await store.append(makeUpdate('first'))
          await closed
          assert.equal((await late)?.id, 'late', 'appended before close, so committed')
          assert.deepEqual(seen, ['first', 'late'])
        })
      })
    })

    // Only for stores that keep anything across a restart: no test is registered to be skipped.
    if (capabilities.durable)
      describe('durability', () => {
        it('keeps every update across a reopen, and continues cursors after the old head', async () => {
          await withStore(undefined, async (store, fixture) => {
            if (fixture.reopen === undefined) throw new Error(`the ${name} fixture has no reopen()`)
            const stored: StoredUpdate[] = []
            for (const update of getVariedUpdates()) stored.push(await store.append(update))
            stored.push(
              ...(await Promise.all(['x', 'y', 'z'].map((id) => store.append(makeUpdate(id))))),
            )
            const oldHead = headOf(store)
            await store.close()

            const again = await fixture.reopen()
            assert.equal(again.head(), oldHead)
            assert.equal(again.headId(), 'z', 'the id at the head, before any append')
            const retried = await again.append(getVariedUpdates()[0] as Update)
            assert.equal(retried.cursor, stored[0]?.cursor, 'a retry after the reopen is known')
            assert.equal(again.head(), oldHead)
            const read = await again.read(null, headOf(again), 100)
            assert.deepEqual(read.map(withoutUndefined), stored.map(withoutUndefined))
            assert.equal(await again.find(stored[0]?.id ?? ''), stored[0]?.cursor)
            const next = await again.append(makeUpdate('after-reopen'))
            assert.ok(compareCursors(oldHead, next.cursor) < 0, 'cursors continue')
            await again.close()
          })
        })
      })
  })
}

function idsOf(updates: readonly StoredUpdate[]): string[] {
  return updates.map((update) => update.id)
}

function cursorsOf(updates: readonly StoredUpdate[]): string[] {
  return updates.map((update) => update.cursor)
}

function headOf(store: EventStore): string {
  const head = store.head()
  assert.notEqual(head, null, 'the store has a head')
  return head as string
}

/** Optional fields may be absent or `undefined`: the contract treats both the same. */
function withoutUndefined(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined))
}

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import type { EventStore } from '../src/hub/event-store.ts'
import { GENERATED_ID, type StoredUpdate, type Update } from '../src/hub/update.ts'
import { MissingDriverError } from '../src/storage/load-driver.ts'
import { createMemoryStore } from '../src/storage/memory.ts'
import {
  createSqliteStore,
  type SqliteStore,
  type SqliteStoreOptions,
} from '../src/storage/sqlite.ts'
import type { SqliteDriverName } from '../src/storage/sqlite-connection.ts'
import { MAX_RETRY_MATCHES } from '../src/storage/stored-update.ts'
import { NODE_HAS_SQLITE } from './helpers/node-sqlite.ts'
import { sleep } from './helpers/raw-sse.ts'
import { countRowsForTesting, databaseHandleForTesting } from './helpers/sqlite-handle.ts'
import { makeUpdate, registerStoreTests } from './store.contract.ts'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const WRITER = join(ROOT, 'test', 'fixtures', 'sqlite-writer.ts')

/**
 * Each SQLite driver with the error forcing it gives on this Node, or `null` when it runs here:
 * node:sqlite on Node 22.13 and later; better-sqlite3 where it is installed and was compiled
 * for this Node (not on a Node 24 with this repo's Node 20 build, for one).
 */
const SQLITE_DRIVERS = (['node:sqlite', 'better-sqlite3'] as const).map((driver) => {
  try {
    void createSqliteStore({ path: ':memory:', driver }).close()
    return { driver, error: null }
  } catch (error) {
    return { driver, error }
  }
})
const AVAILABLE: SqliteDriverName[] = SQLITE_DRIVERS.filter(({ error }) => error === null).map(
  ({ driver }) => driver,
)

describe('SQLite drivers', () => {
  it('runs on node:sqlite when this Node has it (22.13 and later), else on better-sqlite3', async () => {
    const store = createSqliteStore({ path: ':memory:' })
    try {
      assert.equal(store.driver, NODE_HAS_SQLITE ? 'node:sqlite' : 'better-sqlite3')
      assert.equal((await store.append(makeUpdate('a'))).cursor, '1')
    } finally {
      await store.close()
    }
  })

  it(`has node:sqlite exactly when this Node (${process.version}) has it unflagged`, () => {
    const nodeSqlite = SQLITE_DRIVERS.find(({ driver }) => driver === 'node:sqlite')
    assert.equal(nodeSqlite?.error === null, NODE_HAS_SQLITE, String(nodeSqlite?.error))
  })

  // A driver this Node cannot run is not skipped: forcing it must say why, and what to do.
  for (const { driver, error } of SQLITE_DRIVERS.filter(({ error }) => error !== null)) {
    it(`refuses the ${driver} driver on Node ${process.version} with a MissingDriverError saying why`, () => {
      assert.ok(error instanceof MissingDriverError, String(error))
      assert.equal(error.code, 'missing-driver')
      assert.equal(error.driver, driver)
      if (driver === 'node:sqlite') {
        assert.match(error.message, /built into Node 22\.13 and later/)
        assert.match(error.message, /"better-sqlite3" driver/)
      } else {
        // Built for another Node (this repo's build on Node 24), or not installed at all.
        assert.match(
          error.message,
          /ERR_DLOPEN_FAILED.*npm rebuild better-sqlite3|not installed.*npm install better-sqlite3/s,
        )
        if (NODE_HAS_SQLITE) assert.match(error.message, /leave out the driver option/)
      }
    })
  }

  it('rejects a driver it does not know with a RangeError naming the ones it does', () => {
    assert.throws(
      () => createSqliteStore({ path: ':memory:', driver: 'sqlite3' as 'auto' }),
      (error: unknown) =>
        error instanceof RangeError && /'node:sqlite', 'better-sqlite3'/.test(error.message),
    )
  })
})

registerStoreTests(
  'memory',
  async (retention) => {
    const store = createMemoryStore(retention)
    return { store, cleanup: () => store.close() }
  },
  { durable: false },
)

// On each driver this Node runs, twice: with the recent-history window (the default) and
// reading every replay from the file.
for (const [name, recentBytes, driver] of AVAILABLE.flatMap((driver) => [
  [`sqlite on ${driver}`, undefined, driver] as const,
  [`sqlite on ${driver} without a recent window`, 0, driver] as const,
])) {
  registerStoreTests(
    name,
    async (retention) => {
      const dir = await mkdtemp(join(tmpdir(), 'ssehub-store-'))
      // A directory that does not exist yet: the store must create it.
      const path = join(dir, 'data', 'hub.db')
      const stores: EventStore[] = []
      const open = (): EventStore => {
        const store = createSqliteStore({
          path,
          driver,
          ...retention,
          ...(recentBytes === 0 ? { recentBytes } : {}),
        })
        stores.push(store)
        return store
      }
      return {
        store: open(),
        reopen: async () => open(),
        cleanup: async () => {
          for (const store of stores) await store.close()
          await rm(dir, { recursive: true, force: true })
        },
      }
    },
    { durable: true },
  )
}

for (const [name, create] of [
  ['MemoryStore', () => createMemoryStore()],
  ['SqliteStore', () => createSqliteStore({ path: ':memory:' })],
] as const) {
  describe(name, () => {
    it('delivers the appends made in one tick as one batch', async () => {
      const store: EventStore = create()
      try {
        const batches: number[] = []
        store.onCommit((updates) => batches.push(updates.length))
        await Promise.all(Array.from({ length: 10 }, (_, i) => store.append(makeUpdate(`${i}`))))
        assert.deepEqual(batches, [10])
      } finally {
        await store.close()
      }
    })

    it(`recognises a retry among the newest ${MAX_RETRY_MATCHES} updates with its id, an older one being stored again`, async () => {
      const store: EventStore = create()
      try {
        const versions = Array.from(
          { length: MAX_RETRY_MATCHES + 1 },
          (_, n): Update => ({
            ...makeUpdate('hot'),
            data: `${n}`,
          }),
        )
        const stored = await Promise.all(versions.map((update) => store.append(update)))
        assert.deepEqual(
          await store.append({ ...(versions[1] as Update) }),
          stored[1],
          'the oldest compared',
        )
        // DoS guard: past the newest MAX_RETRY_MATCHES with its id, a resend is not compared.
        const again = await store.append({ ...(versions[0] as Update) })
        assert.notEqual(again.cursor, stored[0]?.cursor)
        assert.equal(await store.size(), MAX_RETRY_MATCHES + 2)
        assert.equal(await store.find('hot'), stored[0]?.cursor)
      } finally {
        await store.close()
      }
    })

    it('throws a RangeError for a maxUpdates that is not a positive integer', () => {
      const options = { path: ':memory:', maxUpdates: 0 }
      assert.throws(
        () => (name === 'MemoryStore' ? createMemoryStore(options) : createSqliteStore(options)),
        RangeError,
      )
    })
  })
}

describe('MemoryStore', () => {
  it('keeps order and ids while its ring grows and wraps around', async () => {
    const store = createMemoryStore({ maxUpdates: 2500 })
    try {
      for (let chunk = 0; chunk < 6; chunk++) {
        await Promise.all(
          Array.from({ length: 1000 }, (_, i) =>
            store.append(makeUpdate(`${(chunk * 1000 + i) % 3000}`)),
          ),
        )
      }
      const read = await store.read(null, store.head() ?? '', 10_000)
      assert.deepEqual(
        read.map((update) => update.cursor),
        Array.from({ length: 2500 }, (_, i) => String(3501 + i)),
      )
      assert.deepEqual(
        read.map((update) => update.id),
        Array.from({ length: 2500 }, (_, i) => String((3500 + i) % 3000)),
      )
      // Id "600" was appended as updates 601, 3601: the first is gone, the second is retained.
      assert.equal(await store.find('600'), '3601')
      assert.equal(await store.find('499'), null, 'appended as updates 500 and 3500, both gone')
    } finally {
      await store.close()
    }
  })
})

for (const driver of AVAILABLE) describeSqliteStore(driver)

function describeSqliteStore(driver: SqliteDriverName): void {
  describe(`SqliteStore on ${driver}`, () => {
    /** Runs `test` with a store on a file in a fresh temporary directory, removed afterwards. */
    async function withFileStore(
      options: Omit<SqliteStoreOptions, 'path'>,
      test: (store: SqliteStore, path: string) => Promise<void>,
    ): Promise<void> {
      const dir = await mkdtemp(join(tmpdir(), 'ssehub-sqlite-'))
      const path = join(dir, 'hub.db')
      const store = createSqliteStore({ path, driver, ...options })
      try {
        await test(store, path)
      } finally {
        await store.close()
        await rm(dir, { recursive: true, force: true })
      }
    }

    it('creates the parent directory of its file', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ssehub-sqlite-'))
      try {
        const path = join(dir, 'a', 'b', 'hub.db')
        const store = createSqliteStore({ path, driver })
        assert.equal(store.driver, driver)
        await store.append(makeUpdate('x'))
        await store.close()
        assert.ok(existsSync(path))
      } finally {
        await rm(dir, { recursive: true, force: true })
      }
    })

    it('keeps every acknowledged update when its process is killed mid-stream', async () => {
      await withFileStore({}, async (_, path) => {
        const child = spawn(process.execPath, ['--import', 'tsx', WRITER, path, driver], {
          cwd: ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        })
        let stderr = ''
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk
        })
        const acknowledged = new Map<string, string>()
        let rest = ''
        const exited = new Promise<NodeJS.Signals | null>((resolve) => {
          child.on('close', (_code, signal) => resolve(signal))
        })
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          const lines = (rest + chunk).split('\n')
          rest = lines.pop() ?? ''
          for (const line of lines) {
            const [cursor, id] = line.split(' ') as [string, string]
            acknowledged.set(cursor, id)
          }
          // Killed while appends are in flight: 16 writers never pause between appends.
          if (acknowledged.size >= 3000) child.kill('SIGKILL')
        })
        const signal = await exited
        assert.equal(signal, 'SIGKILL', `the writer was killed, not ended by itself: ${stderr}`)
        assert.ok(acknowledged.size >= 3000)

        const reopened = createSqliteStore({ path, driver })
        try {
          const stored = await reopened.read(null, reopened.head() ?? '0', 1_000_000)
          const byCursor = new Map(stored.map((update) => [update.cursor, update.id]))
          for (const [cursor, id] of acknowledged) assert.equal(byCursor.get(cursor), id, cursor)
          // Nothing half-written either: cursors are contiguous from 1 up to the head.
          assert.deepEqual(
            stored.map((update) => Number(update.cursor)),
            stored.map((_, i) => i + 1),
          )
          const next = await reopened.append(makeUpdate('after-crash'))
          assert.equal(Number(next.cursor), stored.length + 1)
        } finally {
          await reopened.close()
        }
      })
    })

    // Fault injection: `databaseHandleForTesting` hands out the driver's handle, and
    // `PRAGMA max_page_count` caps the file at its current size, so the next transaction that
    // needs a new page fails with SQLITE_FULL, exactly as a full disk would.
    it('rejects every append of a failed transaction with store-unavailable and dispatches none', async () => {
      await withFileStore({}, async (store) => {
        const before = await store.append(makeUpdate('before'))
        const delivered: StoredUpdate[] = []
        store.onCommit((updates) => delivered.push(...updates))
        const db = databaseHandleForTesting(store)
        const pages = Number(db.pragma('page_count'))
        db.pragma(`max_page_count = ${pages}`)

        const big = (id: string) => ({ ...makeUpdate(id), data: 'x'.repeat(50_000) })
        const results = await Promise.allSettled(
          ['f1', 'f2', 'f3'].map((id) => store.append(big(id))),
        )
        for (const result of results) {
          assert.equal(result.status, 'rejected')
          assert.equal((result.reason as { code?: string }).code, 'store-unavailable')
          assert.match((result.reason as Error).message, /full/)
          assert.doesNotMatch((result.reason as Error).message, /xxx/, 'no data in the message')
        }
        assert.equal(delivered.length, 0, 'no listener call')
        assert.equal(store.head(), before.cursor)
        assert.equal(await store.find('f1'), null)
        assert.equal(await store.size(), 1)

        // Room again: the store recovers and the failed updates left no hole in the cursors.
        db.pragma('max_page_count = 1073741823')
        const after = await store.append(big('after'))
        assert.equal(Number(after.cursor), Number(before.cursor) + 1)
        assert.deepEqual(
          delivered.map((update) => update.id),
          ['after'],
        )
      })
    })

    it('commits none of a batch whose multi-row insert fails on a later row, the earlier rows included', async () => {
      await withFileStore({}, async (store) => {
        const before = await store.append(makeUpdate('before'))
        const db = databaseHandleForTesting(store)
        // Room for the first update of 50 KB (13 overflow pages) but not for the next ones: the
        // one INSERT of the batch fails on a later row, after writing the first.
        db.pragma(`max_page_count = ${Number(db.pragma('page_count')) + 20}`)
        const big = (id: string) => ({ ...makeUpdate(id), data: 'x'.repeat(50_000) })
        const results = await Promise.allSettled(
          ['g1', 'g2', 'g3', 'g4'].map((id) => store.append(big(id))),
        )
        assert.deepEqual(
          results.map((result) => result.status),
          ['rejected', 'rejected', 'rejected', 'rejected'],
        )
        for (const id of ['g1', 'g2', 'g3', 'g4']) assert.equal(await store.find(id), null)
        assert.equal(countRowsForTesting(store), 1)
        db.pragma('max_page_count = 1073741823')
        const after = await store.append(makeUpdate('after'))
        assert.equal(Number(after.cursor), Number(before.cursor) + 1)
      })
    })

    it('rejects appends with store-unavailable and reports not ready when its database handle is gone', async () => {
      // No recent window: the read below must go to the file.
      await withFileStore({ recentBytes: 0 }, async (store) => {
        await store.append(makeUpdate('before'))
        let calls = 0
        store.onCommit(() => calls++)
        databaseHandleForTesting(store).close()
        await assert.rejects(store.append(makeUpdate('lost')), { code: 'store-unavailable' })
        await assert.rejects(store.read(null, '1', 10), { code: 'store-unavailable' })
        assert.equal(await store.ready(), false)
        assert.equal(calls, 0)
      })
    })

    it('replays recent history from memory and older history from the file, alike', async () => {
      // About three updates of makeUpdate's size fit in 600 bytes.
      await withFileStore({ recentBytes: 600 }, async (store) => {
        const fileOnly = createSqliteStore({ path: ':memory:', driver, recentBytes: 0 })
        try {
          for (let i = 0; i < 20; i++) {
            await Promise.all([
              store.append(makeUpdate(`u${i}`)),
              fileOnly.append(makeUpdate(`u${i}`)),
            ])
          }
          const head = store.head() as string
          for (const after of [null, '1', '10', '16', '17', '18', '19', '20']) {
            for (const limit of [1, 2, 100]) {
              const strip = (updates: StoredUpdate[]) => updates.map(({ time, ...rest }) => rest)
              assert.deepEqual(
                strip(await store.read(after, head, limit)),
                strip(await fileOnly.read(after, head, limit)),
                `after ${after}, limit ${limit}`,
              )
            }
          }
          // With the file gone, what the window holds is still served; what it does not, is not.
          databaseHandleForTesting(store).close()
          const recent = await store.read('18', head, 100)
          assert.deepEqual(
            recent.map((update) => update.id),
            ['u18', 'u19'],
          )
          await assert.rejects(store.read('10', head, 100), { code: 'store-unavailable' })
        } finally {
          await fileOnly.close()
        }
      })
    })

    it('commits at most maxBatch appends per transaction', async () => {
      const store = createSqliteStore({ path: ':memory:', driver, maxBatch: 1000 })
      try {
        const batches: number[] = []
        store.onCommit((updates) => batches.push(updates.length))
        await Promise.all(Array.from({ length: 2500 }, (_, i) => store.append(makeUpdate(`${i}`))))
        assert.deepEqual(batches, [1000, 1000, 500])
      } finally {
        await store.close()
      }
    })

    it('deletes the rows past maxUpdates from the file with each commit', async () => {
      await withFileStore({ maxUpdates: 10 }, async (store) => {
        for (let round = 0; round < 5; round++) {
          await Promise.all(
            Array.from({ length: 7 }, (_, i) => store.append(makeUpdate(`${round}-${i}`))),
          )
          assert.equal(countRowsForTesting(store), Math.min(10, 7 * (round + 1)))
        }
      })
    })

    it('stores a batch of 300 new updates in chunks, with consecutive cursors after retention deleted rows', async () => {
      await withFileStore({ maxUpdates: 500 }, async (store) => {
        // 700 first: the oldest 200 deleted, so the next seq comes from AUTOINCREMENT's record.
        await Promise.all(Array.from({ length: 700 }, (_, i) => store.append(makeUpdate(`a${i}`))))
        const batch = await Promise.all(
          Array.from({ length: 300 }, (_, i) => store.append(makeUpdate(`b${i}`))),
        )
        assert.deepEqual(
          batch.map((update) => update.cursor),
          Array.from({ length: 300 }, (_, i) => String(701 + i)),
        )
        const read = await store.read('700', '1000', 1000)
        assert.deepEqual(
          read.map((update) => update.id),
          Array.from({ length: 300 }, (_, i) => `b${i}`),
        )
        assert.equal(await store.find('b299'), '1000')
        assert.equal(await store.size(), 500)
      })
    })

    it('stores 8 MiB of 4 KiB updates in bursts of 256 and reads them all back from the file, past its page cache', async () => {
      // No recent window: every read goes to the file, whose page cache is 2 MiB (sqlite.ts).
      await withFileStore({ recentBytes: 0 }, async (store) => {
        const payload = (i: number) => `${i}:`.padEnd(4096, String.fromCharCode(97 + (i % 26)))
        for (let burst = 0; burst < 8; burst++) {
          const stored = await Promise.all(
            Array.from({ length: 256 }, (_, j) => {
              const i = burst * 256 + j
              return store.append({ ...makeUpdate(`big${i}`), data: payload(i) })
            }),
          )
          assert.equal(stored[255]?.cursor, String((burst + 1) * 256))
        }
        let after: string | null = null
        let read = 0
        for (;;) {
          const page = await store.read(after, '2048', 300)
          if (page.length === 0) break
          for (const update of page) {
            assert.equal(update.id, `big${read}`)
            assert.equal(update.data, payload(read))
            read++
          }
          after = page[page.length - 1]?.cursor ?? null
        }
        assert.equal(read, 2048)
      })
    })

    it('goes row by row for a batch that repeats a retained update, storing only the new ones', async () => {
      await withFileStore({}, async (store) => {
        const first = await store.append(makeUpdate('kept'))
        const batch = await Promise.all(
          Array.from({ length: 300 }, (_, i) =>
            store.append(makeUpdate(i === 150 ? 'kept' : `n${i}`)),
          ),
        )
        assert.deepEqual(batch[150], first)
        assert.equal(batch[299]?.cursor, String(1 + 299))
        assert.equal(countRowsForTesting(store), 300)
      })
    })

    it('never takes an update with a hub-generated id for a retry of a retained one, in a batch of 300', async () => {
      await withFileStore({}, async (store) => {
        const kept = await store.append(makeUpdate('kept'))
        // The same id and content as the retained update, but marked as the hub's own: were its
        // id looked up, the batch would go row by row and this one would answer `kept`.
        const batch = await Promise.all(
          Array.from({ length: 300 }, (_, i) =>
            store.append({ ...makeUpdate(i === 150 ? 'kept' : `g${i}`), [GENERATED_ID]: true }),
          ),
        )
        assert.deepEqual(
          batch.map((update) => update.cursor),
          Array.from({ length: 300 }, (_, i) => String(2 + i)),
        )
        assert.notDeepEqual(batch[150], kept)
        assert.equal(batch[150]?.id, 'kept')
        assert.equal(countRowsForTesting(store), 301)
      })
    })

    it('still recognises a chosen id retried beside hub-generated ones, going row by row', async () => {
      await withFileStore({}, async (store) => {
        const kept = await store.append(makeUpdate('kept'))
        const [marked, retried, fresh] = await Promise.all([
          store.append({ ...makeUpdate('kept'), [GENERATED_ID]: true }),
          store.append(makeUpdate('kept')),
          store.append({ ...makeUpdate('g'), [GENERATED_ID]: true }),
        ])
        assert.equal(kept.cursor, '1')
        assert.equal(marked?.cursor, '2')
        // A retry answers the newest retained row with its id and content: here the marked one,
        // stored as new just before it.
        assert.deepEqual(retried, marked)
        assert.equal(fresh?.cursor, '3')
        assert.equal(countRowsForTesting(store), 3)
      })
    })

    it('leaves at most maxUpdates / 64 rows past the limit in the file, serves none of them, and deletes them in one commit', async () => {
      await withFileStore({ maxUpdates: 640 }, async (store) => {
        const counts = new Set<number>()
        for (let round = 0; round < 120; round++) {
          await Promise.all(
            Array.from({ length: 7 }, (_, i) => store.append(makeUpdate(`${round}-${i}`))),
          )
          const rows = countRowsForTesting(store)
          counts.add(rows)
          assert.ok(rows <= 640 + 10, `${rows} rows in the file after round ${round}`)
          assert.equal(await store.size(), Math.min(640, 7 * (round + 1)))
        }
        // Both states were seen: rows waiting past the limit, and a commit that deleted them.
        assert.ok(counts.has(640))
        assert.ok([...counts].some((rows) => rows > 640))
        const served = await store.read(null, store.head() as string, 1000)
        assert.equal(served.length, 640)
        // 840 appended, the newest 640 kept: the oldest served is the 201st, round 28's 5th.
        assert.equal(served[0]?.id, '28-4')
      })
    })

    it('caps the rows left past the limit at 256 for large histories', async () => {
      const maxUpdates = 64 * 257
      const store = createSqliteStore({ path: ':memory:', driver, maxUpdates })
      try {
        await Promise.all(
          Array.from({ length: maxUpdates }, (_, i) => store.append(makeUpdate(`fill-${i}`))),
        )
        let most = 0
        for (let i = 0; i < 600; i++) {
          await store.append(makeUpdate(`one-${i}`))
          most = Math.max(most, countRowsForTesting(store))
          assert.equal(await store.size(), maxUpdates)
        }
        // One at a time, the file grows to exactly the cap (not 257) before a commit deletes.
        assert.equal(most, maxUpdates + 256)
      } finally {
        await store.close()
      }
    })

    it('deletes expired rows from the file on a timer, with no append since', async () => {
      await withFileStore({ maxAgeMs: 100 }, async (store) => {
        await Promise.all(['a', 'b'].map((id) => store.append(makeUpdate(id))))
        await sleep(350)
        assert.equal(countRowsForTesting(store), 0)
      })
    })

    it('reopens a database with reused ids, keeping every row and resolving each id to its earliest', async () => {
      await withFileStore({}, async (first, path) => {
        const stored: StoredUpdate[] = []
        for (const [n, id] of ['r', 'a', 'r', 'b', 'r'].entries()) {
          stored.push(await first.append({ ...makeUpdate(id), data: `${n}` }))
        }
        await first.close()
        const store = createSqliteStore({ path, driver })
        try {
          assert.deepEqual(await store.read(null, store.head() ?? '', 100), stored)
          assert.equal(await store.find('r'), stored[0]?.cursor)
          assert.deepEqual(await store.append({ ...makeUpdate('r'), data: '2' }), stored[2])
          const reused = await store.append({ ...makeUpdate('r'), data: 'new' })
          assert.equal(await store.size(), 6)
          assert.equal(reused.cursor, String(Number(stored[4]?.cursor) + 1))
        } finally {
          await store.close()
        }
      })
    })

    it('refuses a database written by a newer schema version, saying what to do', async () => {
      await withFileStore({}, async (store, path) => {
        databaseHandleForTesting(store).pragma('user_version = 99')
        await store.close()
        assert.throws(() => createSqliteStore({ path, driver }), {
          code: 'store-unavailable',
          message: /newer.*upgrade ssehub/,
        })
      })
    })
  })
}

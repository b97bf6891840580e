// Issue #12, item 2: the entry points as a project sees them that installed ssehub and nothing
// else. The build is compiled into `node_modules/ssehub` of a temporary project, which has no
// other package: `ssehub`, `ssehub/client` and `ssehub/hub` must work there, and the SQLite and
// Redis stores, whose drivers are then missing, must say which package to install rather than
// fail to import.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
/** The longest the build or one script may take before the test fails. */
const STEP_TIMEOUT_MS = 60_000

const run = promisify(execFile)

describe('entry points in a project with no other package installed', () => {
  let project: string

  /** Runs `source` as an ES module in the project; resolves with what it printed, parsed. */
  const evaluate = async (source: string): Promise<unknown> => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', source], {
      cwd: project,
      timeout: STEP_TIMEOUT_MS,
    })
    return JSON.parse(stdout)
  }

  before(async () => {
    project = await mkdtemp(join(tmpdir(), 'ssehub-entries-'))
    const pkg = join(project, 'node_modules', 'ssehub')
    await mkdir(pkg, { recursive: true })
    await writeFile(join(project, 'package.json'), '{ "type": "module", "private": true }\n')
    await copyFile(join(ROOT, 'package.json'), join(pkg, 'package.json'))
    await run('npx', ['tsc', '-p', 'tsconfig.build.json', '--outDir', join(pkg, 'dist')], {
      cwd: ROOT,
      timeout: STEP_TIMEOUT_MS,
    })
  })

  after(async () => {
    if (project !== undefined) await rm(project, { recursive: true, force: true })
  })

  it('runs the wire format, the client and the hub with its memory store', async () => {
    const result = await evaluate(`
      import { encodeEvent } from 'ssehub'
      import { SseClient } from 'ssehub/client'
      import { createHub, createMemoryStore } from 'ssehub/hub'
      const store = createMemoryStore()
      const hub = createHub({ store })
      const stored = await hub.publish({ id: 'urn:x', topics: ['urn:a'], data: 'hi', private: false })
      const history = await store.read(null, stored.cursor, 10)
      hub.close()
      await store.close()
      console.log(JSON.stringify({
        encoded: new TextDecoder().decode(encodeEvent({ data: 'x' })),
        client: typeof SseClient,
        history: history.map((update) => update.id),
        lastEventId: hub.lastEventId,
      }))
    `)
    assert.deepEqual(result, {
      encoded: 'data: x\n\n',
      client: 'function',
      history: ['urn:x'],
      lastEventId: 'urn:x',
    })
  })

  for (const [entry, create, driver] of [
    ['ssehub/storage/sqlite', "createSqliteStore({ path: ':memory:' })", 'better-sqlite3'],
    ['ssehub/storage/redis', "createRedisStore({ url: 'redis://127.0.0.1:1' })", 'redis'],
  ] as const) {
    it(`imports ${entry}, and says to install ${driver} when a store is created`, async () => {
      const result = await evaluate(`
        import * as entry from '${entry}'
        const { ${create.slice(0, create.indexOf('('))} } = entry
        try {
          await ${create}
          console.log(JSON.stringify({ created: true }))
        } catch (error) {
          console.log(JSON.stringify({
            name: error.name,
            code: error.code,
            driver: error.driver,
            message: error.message,
            isMissingDriver: error instanceof entry.MissingDriverError,
          }))
        }
      `)
      assert.deepEqual(result, {
        name: 'MissingDriverError',
        code: 'missing-driver',
        driver,
        message: `${entry} needs the "${driver}" package, which is not installed: run "npm install ${driver}" in the project that uses ssehub.`,
        isMissingDriver: true,
      })
    })
  }
})

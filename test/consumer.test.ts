// Issue #12, item 4 and its acceptance: ssehub as a project sees it that installed the packed
// tarball. The package is built and packed in a temporary copy (`test/helpers/package-copy.ts`);
// a fresh project installs the tarball with `--omit=optional`, `--offline` and an empty npm
// cache: a required dependency would fail the install (ENOTCACHED), while the optional ones npm
// cannot fetch are left out, as `--omit=optional` asks. There `ssehub`, `ssehub/client` and `ssehub/hub` must work with no other package,
// `ssehub/node`, `ssehub/web` and the stores must import and say which package a factory needs,
// and programs using the entry points must type-check against the published declarations with
// `skipLibCheck: false` and no types of an optional package. Then the optional dependencies
// (jose, pino, pino-pretty, prom-client), which a default install adds, are linked from this
// repository's node_modules where npm would have put them: the hub verifies tokens from the
// tarball's JavaScript, and the CLI runs.

import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  realpath,
  rm,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import { NODE_HAS_SQLITE } from './helpers/node-sqlite.ts'
import { copyPackage, ROOT, readPackageJson } from './helpers/package-copy.ts'

/** The longest one step (the build, the pack, an install, a script, a type-check) may take. */
const STEP_TIMEOUT_MS = 60_000
/** A shared secret long enough for HS256. */
const KEY = 'a-shared-secret-for-the-consumer-test-0123456789'

const run = promisify(execFile)

/**
 * The environment of the commands: without the `npm_*` variables of the `npm test` around this
 * one, which would point npm at this repository's configuration.
 */
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(([name]) => !name.toLowerCase().startsWith('npm_')),
)

/** What the installed package's `package.json` says. */
interface InstalledPackage {
  exports: Record<string, unknown>
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
}

/** What a factory did in the project: made its object, or threw (`typed`: of the class expected). */
type Outcome = 'created' | { name: string; message: string; typed: boolean }

/** One node of `npm ls --json`. */
interface LsNode {
  version?: string
  dependencies?: Record<string, LsNode>
}

/** `npm` in `cwd`; resolves with what it printed. */
async function npm(args: readonly string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, {
    cwd,
    env: ENV,
    timeout: STEP_TIMEOUT_MS,
    maxBuffer: 64 * 1024 * 1024,
  })
  return stdout
}

/** `ssehub/<entry>` for an `exports` key: `.` → `ssehub`, `./web` → `ssehub/web`. */
function specifierOf(key: string): string {
  return key === '.' ? 'ssehub' : `ssehub/${key.slice(2)}`
}

describe('the packed tarball in a fresh project', () => {
  let work: string
  let consumer: string
  let installed: InstalledPackage

  /** Runs `source` as an ES module in the project; resolves with what it printed, parsed. */
  const evaluate = async (source: string): Promise<unknown> => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', source], {
      cwd: consumer,
      env: ENV,
      timeout: STEP_TIMEOUT_MS,
    })
    return JSON.parse(stdout)
  }

  /**
   * Type-checks `program` in the project with this repository's TypeScript, strict, against the
   * published declarations (`skipLibCheck: false`); `types` are the `@types` packages it may use,
   * found in this repository's node_modules (a project of its own would install them).
   */
  const typeCheck = async (name: string, program: string, types: string[]): Promise<void> => {
    await writeFile(join(consumer, `${name}.ts`), program)
    const config = {
      compilerOptions: {
        strict: true,
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        lib: ['es2023', 'dom', 'dom.iterable'],
        types,
        typeRoots: [join(ROOT, 'node_modules/@types')],
        skipLibCheck: false,
        noEmit: true,
      },
      files: [`${name}.ts`],
    }
    await writeFile(join(consumer, `tsconfig.${name}.json`), JSON.stringify(config, null, 2))
    const tsc = join(ROOT, 'node_modules/.bin/tsc')
    try {
      await run(tsc, ['-p', `tsconfig.${name}.json`], { cwd: consumer, timeout: STEP_TIMEOUT_MS })
    } catch (error) {
      const { stdout, stderr } = error as { stdout?: string; stderr?: string }
      assert.fail(`${name}.ts does not type-check:\n${stdout ?? ''}${stderr ?? ''}`)
    }
  }

  /** The `exports` entries as specifiers, `./package.json` left out. */
  const entries = (): string[] =>
    Object.keys(installed.exports)
      .filter((key) => key !== './package.json')
      .map(specifierOf)

  before(async () => {
    const started = Date.now()
    work = await realpath(await mkdtemp(join(tmpdir(), 'ssehub-consumer-')))
    const copy = join(work, 'package')
    await mkdir(copy)
    await copyPackage(await readPackageJson(), copy)
    await npm(['run', 'build'], copy)
    const packed = JSON.parse(
      await npm(['pack', '--json', '--ignore-scripts', '--pack-destination', work], copy),
    ) as { filename: string }[]
    const tarball = join(work, (packed[0] as { filename: string }).filename)
    consumer = join(work, 'consumer')
    await mkdir(consumer)
    await writeFile(
      join(consumer, 'package.json'),
      '{ "name": "consumer", "private": true, "type": "module" }\n',
    )
    await npm(
      [
        'install',
        '--omit=optional',
        '--ignore-scripts',
        '--no-audit',
        '--no-fund',
        '--offline',
        '--cache',
        join(work, 'npm-cache'),
        tarball,
      ],
      consumer,
    )
    installed = JSON.parse(
      await readFile(join(consumer, 'node_modules/ssehub/package.json'), 'utf8'),
    ) as InstalledPackage
    process.stdout.write(`built, packed and installed in ${Date.now() - started} ms\n`)
  })

  after(async () => {
    if (work !== undefined) await rm(work, { recursive: true, force: true })
  })

  describe('installed with --omit=optional', () => {
    it('installs ssehub and no other package', async () => {
      assert.equal(installed.dependencies, undefined, 'ssehub requires no package')
      const modules = (await readdir(join(consumer, 'node_modules'))).filter(
        (name) => !name.startsWith('.'),
      )
      assert.deepEqual(modules, ['ssehub'])
      const ls = ['ls', '--omit=dev', '--omit=optional', '--omit=peer', '--all']
      const tree = JSON.parse(await npm([...ls, '--json'], consumer)) as {
        dependencies?: { ssehub?: LsNode }
      }
      // npm lists the optional packages it left out as empty nodes: none may have a version.
      const under = Object.entries(tree.dependencies?.ssehub?.dependencies ?? {})
      assert.deepEqual(
        under.filter(([, node]) => node.version !== undefined).map(([name]) => name),
        [],
      )
      process.stdout.write(await npm(ls, consumer))
    })

    it('imports every entry point, ssehub/server included: packages load when used', async () => {
      const specifiers = entries()
      const counts = (await evaluate(`
        const counts = {}
        for (const specifier of ${JSON.stringify(specifiers)}) {
          counts[specifier] = Object.keys(await import(specifier)).length
        }
        console.log(JSON.stringify(counts))
      `)) as Record<string, number>
      assert.deepEqual(Object.keys(counts), specifiers)
      for (const [specifier, count] of Object.entries(counts)) {
        assert.ok(count > 0, `${specifier} exports something`)
      }
    })

    it('has the ssehub command say which package to install, and exit 2', async () => {
      // The command logs with pino and counts with prom-client: optional dependencies that a
      // default install brings and `--omit=optional` leaves out.
      const failure = await run(join(consumer, 'node_modules/.bin/ssehub'), ['--port', '0'], {
        cwd: consumer,
        env: ENV,
        timeout: STEP_TIMEOUT_MS,
      }).then(
        () => assert.fail('ssehub started without pino'),
        (error: { code?: unknown; stderr?: unknown }) => error,
      )
      assert.equal(failure.code, 2)
      assert.equal(
        failure.stderr,
        'ssehub: The ssehub command needs the "pino" package, which is not installed: run "npm install pino" in the project that uses ssehub.\n',
      )
    })

    it('runs the wire format, the client and the hub with its memory store', async () => {
      const result = await evaluate(`
        import { createParser, encodeEvent } from 'ssehub'
        import { SseClient } from 'ssehub/client'
        import { createHub } from 'ssehub/hub'
        import { createMemoryStore } from 'ssehub/storage/memory'
        const store = createMemoryStore()
        const hub = createHub({ store })
        const stored = await hub.publish({ id: 'urn:x', topics: ['urn:a'], data: 'hi', private: false })
        const history = await store.read(null, stored.cursor, 10)
        hub.close()
        await store.close()
        const parsed = []
        createParser({ onEvent: (message) => parsed.push(message.data) })
          .feed(new TextDecoder().decode(encodeEvent({ data: 'x' })))
        console.log(JSON.stringify({
          parsed,
          client: typeof SseClient,
          history: history.map((update) => update.id),
        }))
      `)
      assert.deepEqual(result, { parsed: ['x'], client: 'function', history: ['urn:x'] })
    })

    it('says which package to install when a factory needs one', async () => {
      const result = (await evaluate(`
        import { createMercureHandler, mintToken, MissingPackageError } from 'ssehub/node'
        import { createMercureFetchHandler } from 'ssehub/web'
        import { createRedisStore, MissingDriverError } from 'ssehub/storage/redis'
        import { createSqliteStore } from 'ssehub/storage/sqlite'
        const key = ${JSON.stringify(KEY)}
        const outcome = async (make, type) => {
          try {
            await (await make())?.close?.()
            return 'created'
          } catch (error) {
            return { name: error.name, message: error.message, typed: error instanceof type }
          }
        }
        console.log(JSON.stringify({
          node: await outcome(() => createMercureHandler({ key }), MissingPackageError),
          web: await outcome(() => createMercureFetchHandler({ key }), MissingPackageError),
          mint: await outcome(() => mintToken({ key }), MissingPackageError),
          redis: await outcome(() => createRedisStore({ url: 'redis://127.0.0.1:1' }), MissingDriverError),
          sqlite: await outcome(() => createSqliteStore({ path: ':memory:' }), MissingDriverError),
          betterSqlite: await outcome(
            () => createSqliteStore({ path: ':memory:', driver: 'better-sqlite3' }),
            MissingDriverError,
          ),
        }))
      `)) as Record<'node' | 'web' | 'mint' | 'redis' | 'sqlite' | 'betterSqlite', Outcome>
      const jose = (usedBy: string) => ({
        name: 'MissingPackageError',
        message: `${usedBy} needs the "jose" package, which is not installed: run "npm install jose" in the project that uses ssehub.`,
        typed: true,
      })
      assert.deepEqual(result.node, jose('createMercureHandler'))
      assert.deepEqual(result.web, jose('createMercureFetchHandler'))
      assert.deepEqual(result.mint, jose("ssehub's token signing (mintToken)"))
      const driver = (message: string) => ({ name: 'MissingDriverError', message, typed: true })
      assert.deepEqual(
        result.redis,
        driver(
          'ssehub/storage/redis needs the "redis" package, which is not installed: run "npm install redis" in the project that uses ssehub.',
        ),
      )
      const sqlite = 'ssehub/storage/sqlite'
      const noBetterSqlite = driver(
        `${sqlite} was asked for the "better-sqlite3" driver, which is not installed: run "npm install better-sqlite3" in the project that uses ssehub, or leave out the driver option to use "node:sqlite", built into this Node.`,
      )
      if (NODE_HAS_SQLITE) {
        // Node 22.13 and later: the store needs no package; only asking for the fallback by name
        // says to install it.
        assert.equal(result.sqlite, 'created')
        assert.deepEqual(result.betterSqlite, noBetterSqlite)
      } else {
        const neither = driver(
          `${sqlite} needs Node's built-in "node:sqlite", which Node ${process.version} does not have, or the "better-sqlite3" package, which is not installed: use Node 22.13 or later, or run "npm install better-sqlite3" in the project that uses ssehub.`,
        )
        assert.deepEqual(result.sqlite, neither)
        assert.equal((result.betterSqlite as { typed?: boolean }).typed, true)
        assert.match((result.betterSqlite as { message: string }).message, /"better-sqlite3"/)
      }
    })

    it('type-checks a program on ssehub, ssehub/client and ssehub/hub with no @types at all', async () => {
      await typeCheck('zero-dependency', ZERO_DEPENDENCY_PROGRAM, [])
    })

    it('type-checks a program on ssehub/node, ssehub/web and the stores with @types/node only', async () => {
      await typeCheck('node-and-web', NODE_AND_WEB_PROGRAM, ['node'])
    })
  })

  describe('with its optional dependencies, as a default install adds them', () => {
    before(async () => {
      for (const name of Object.keys(installed.optionalDependencies ?? {})) {
        await symlink(join(ROOT, 'node_modules', name), join(consumer, 'node_modules', name))
      }
    })

    it('verifies tokens with jose from the tarball: a publish is answered with its id', async () => {
      const result = await evaluate(`
        import { createMercureHandler, mintToken } from 'ssehub/node'
        import { createMercureFetchHandler } from 'ssehub/web'
        const key = ${JSON.stringify(KEY)}
        await createMercureHandler({ key, logger: null }).close()
        const hub = createMercureFetchHandler({ key, logger: null })
        const publish = async (token) => {
          const response = await hub(new Request('http://localhost/.well-known/mercure', {
            method: 'POST',
            headers: {
              authorization: 'Bearer ' + token,
              'content-type': 'application/x-www-form-urlencoded',
            },
            body: new URLSearchParams({ topic: 'urn:a', data: 'hi', id: 'urn:x' }),
          }))
          return [response.status, await response.text()]
        }
        const accepted = await publish(await mintToken({ key, publish: ['*'] }))
        const refused = await publish(await mintToken({ key: key + '-another', publish: ['*'] }))
        await hub.close()
        console.log(JSON.stringify({ accepted, refused: refused[0] }))
      `)
      assert.deepEqual(result, { accepted: [200, 'urn:x'], refused: 401 })
    })

    it('imports every entry point, ssehub/server included', async () => {
      const specifiers = entries()
      const imported = await evaluate(`
        for (const specifier of ${JSON.stringify(specifiers)}) await import(specifier)
        console.log(JSON.stringify(${JSON.stringify(specifiers)}))
      `)
      assert.deepEqual(imported, specifiers)
    })

    it('runs the ssehub command', async () => {
      const { stdout } = await run(join(consumer, 'node_modules/.bin/ssehub'), ['--help'], {
        cwd: consumer,
        env: ENV,
        timeout: STEP_TIMEOUT_MS,
      })
      assert.match(stdout, /ssehub/)
    })
  })
})

/** A program on the entry points that import no package: it must need no `@types` at all. */
const ZERO_DEPENDENCY_PROGRAM = `
import { createParser, encodeEvent, type SseMessage } from 'ssehub'
import { SseClient, type SseClientOptions } from 'ssehub/client'
import { createHub, createMemoryStore, type EventStore, type Hub, type StoredUpdate, type Update } from 'ssehub/hub'
import { MemoryStore } from 'ssehub/storage/memory'

const options: SseClientOptions = {}
export const client = (url: string): SseClient => new SseClient(url, options)
const store: EventStore = createMemoryStore({ maxUpdates: 10 })
const hub: Hub = createHub({ store })
const update: Update = { id: 'urn:x', topics: ['urn:a'], data: 'hi', private: false }
export const stored: Promise<StoredUpdate> = hub.publish(update)
export const isMemory: boolean = store instanceof MemoryStore
const parser = createParser({ onEvent: (message: SseMessage) => console.log(message.data) })
parser.feed(new TextDecoder().decode(encodeEvent({ data: 'x' })))
`

/** A program on the Node and web entries and the stores: \`@types/node\`, and no driver's types. */
const NODE_AND_WEB_PROGRAM = `
import { createServer } from 'node:http'
import { createMercureHandler, type MercureHandler, mintToken, MissingPackageError } from 'ssehub/node'
import { createMercureFetchHandler, type MercureFetchHandler } from 'ssehub/web'
import { createRedisStore, MissingDriverError, type RedisStoreOptions } from 'ssehub/storage/redis'
import { createSqliteStore, type SqliteStoreOptions } from 'ssehub/storage/sqlite'

const key = process.env['SSEHUB_JWT_KEY'] ?? ''
const sqlite: SqliteStoreOptions = { path: 'hub.db' }
export const handler: MercureHandler = createMercureHandler({ key, store: createSqliteStore(sqlite) })
createServer(async (req, res) => {
  if (!(await handler(req, res))) res.end('not the hub')
})
export const fetchHandler: MercureFetchHandler = createMercureFetchHandler({ key })
export const token: Promise<string> = mintToken({ key, publish: ['*'] })
const redis: RedisStoreOptions = { url: 'redis://127.0.0.1:6379' }
export const missing = (error: unknown): boolean =>
  error instanceof MissingPackageError || error instanceof MissingDriverError
export const store = createRedisStore(redis).then((created) => created.close())
`

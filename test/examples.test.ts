// Issue #12, item 3: the examples in examples/ run as their users run them, each in a process of
// its own, importing `ssehub/node` by the package's name. Node resolves that name through this
// package's own `exports` (a package may import itself by name); `--conditions=source` selects
// the TypeScript sources there instead of dist/, so the examples need no build, and tsx runs them.
// Each test publishes with a token, receives the update over SSE, and resumes with Last-Event-ID.

import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { mintToken } from '../src/hub/mint-token.ts'
import { runToEnd, spawnCollecting, stopChild, waitForOutput } from './helpers/child-process.ts'
import { publishTo } from './helpers/hub-process.ts'
import { TEST_SECRET } from './helpers/hub-server.ts'
import { subscribeSse } from './helpers/sse-events.ts'

const EXAMPLES = [
  'express',
  'fastify',
  'koa',
  'hono-node',
  'bun',
  'deno',
  'next-route-handler',
] as const

const bin = (runtime: string) =>
  new URL(`../node_modules/.bin/${runtime}`, import.meta.url).pathname

/**
 * How an example runs: on Node through tsx, or on Bun and Deno from their npm packages (development
 * dependencies), each on ssehub's sources (`--conditions=source`); the Next.js app with
 * `next start` in its folder, after `next build` (see {@link buildNext}).
 */
function commandOf(name: string, file: string): { command: string; args: string[] } {
  if (name === 'next-route-handler') {
    return { command: bin('next'), args: ['start', '--port', '0', '--hostname', '127.0.0.1'] }
  }
  if (name === 'bun') return { command: bin('bun'), args: ['--conditions=source', file] }
  if (name === 'deno') {
    return {
      command: bin('deno'),
      // No lock file written into the repository; the permissions the README gives.
      args: [
        'run',
        '--no-lock',
        '--conditions=source',
        '--allow-net',
        '--allow-env',
        '--allow-read',
        file,
      ],
    }
  }
  return { command: process.execPath, args: ['--conditions=source', '--import', 'tsx', file] }
}

/**
 * Why an example cannot run here, or `null`: Bun or Deno not installed (their npm packages ship the
 * binary for the platform; a platform without one gets none). Under `REQUIRE_RUNTIMES=1`, as in
 * CI, a missing runtime fails its tests instead of skipping them.
 */
function missingRuntime(name: string): string | null {
  if (name !== 'bun' && name !== 'deno') return null
  const { command } = commandOf(name, '')
  return existsSync(command)
    ? null
    : `${name} is not installed (npm install, or npm install ${name})`
}

/** The longest an example may take to start (a loaded CI machine takes seconds to start tsx). */
const START_TIMEOUT_MS = 60_000
/** The longest `next build` or `deno check` may take (about 10 s each on an idle 2-core machine). */
const NEXT_BUILD_TIMEOUT_MS = 180_000

const NEXT_APP = new URL('../examples/next-route-handler/', import.meta.url).pathname

/**
 * Builds the Next.js example as its users deploy it (`next build`, then `next start`), into its
 * `.next/` folder (ignored by git); its route handlers are compiled from ssehub's sources.
 */
async function buildNext(): Promise<void> {
  const { code, output } = await runToEnd(bin('next'), ['build'], {
    cwd: NEXT_APP,
    env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' },
    timeoutMs: NEXT_BUILD_TIMEOUT_MS,
  })
  assert.equal(code, 0, `next build failed:\n${output}`)
}

interface ExampleProcess {
  readonly child: ChildProcess
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  output(): string
  /** Sends SIGTERM and resolves with the exit code (`null` when a signal ended it). */
  stop(): Promise<number | null>
}

/** Starts `examples/<name>/server.ts` on a free loopback port; resolves once it listens. */
async function startExample(name: string): Promise<ExampleProcess> {
  const file = new URL(`../examples/${name}/server.ts`, import.meta.url).pathname
  const { command, args } = commandOf(name, file)
  const started = spawnCollecting(command, args, {
    ...(name === 'next-route-handler' ? { cwd: NEXT_APP } : {}),
    env: {
      ...process.env,
      SSEHUB_JWT_KEY: TEST_SECRET,
      PORT: '0',
      HOST: '127.0.0.1',
      NEXT_TELEMETRY_DISABLED: '1',
    },
  })
  // Next.js says `- Local:  http://…` where the others say `listening on http://…`.
  const [, base] = (await waitForOutput(
    started,
    /(?:listening on|Local:)\s+(http:\/\/\S+?)\/?\s/,
    `examples/${name}`,
    START_TIMEOUT_MS,
  )) as unknown as [string, string]
  const { child, output } = started
  return {
    child,
    base,
    output,
    stop: () => stopChild(child),
  }
}

/** Posts one update with `token`; fails the test unless the hub answers 200; resolves with its id. */
async function publish(hubUrl: string, token: string, fields: Record<string, string>) {
  const { status, body } = await publishTo(hubUrl, token, fields)
  assert.equal(status, 200, `publish answered ${status}: ${body}`)
  return body
}

for (const name of EXAMPLES) {
  const missing = missingRuntime(name)
  const required = process.env['REQUIRE_RUNTIMES'] === '1'
  describe(`examples/${name}`, { skip: missing !== null && !required ? missing : false }, () => {
    let app: ExampleProcess
    let hubUrl: string
    let publisher: string
    let subscriber: string

    before(async () => {
      if (missing !== null) throw new Error(`${missing}: REQUIRE_RUNTIMES=1 requires it`)
      if (name === 'next-route-handler') await buildNext()
      app = await startExample(name)
      hubUrl = `${app.base}/.well-known/mercure`
      publisher = await mintToken({ key: TEST_SECRET, publish: ['https://example.com/books/{id}'] })
      subscriber = await mintToken({
        key: TEST_SECRET,
        subscribe: ['https://example.com/books/{id}'],
      })
    })

    after(async () => {
      await app?.stop()
    })

    it('still serves its own route beside the hub', async () => {
      const res = await fetch(`${app.base}/hello`)
      assert.equal(res.status, 200)
      assert.deepEqual(await res.json(), { hello: 'world' })
      const missing = await fetch(`${app.base}/nowhere`)
      assert.equal(missing.status, 404)
    })

    it('delivers a private update published with a token to a subscriber with a token', async () => {
      const topic = 'https://example.com/books/1'
      const sse = await subscribeSse(
        `${hubUrl}?topic=${encodeURIComponent('https://example.com/books/{id}')}`,
        {
          authorization: `Bearer ${subscriber}`,
        },
      )
      try {
        assert.equal(sse.status, 200)
        assert.match(String(sse.headers['content-type']), /^text\/event-stream/)
        const id = await publish(hubUrl, publisher, {
          topic,
          data: '{"title":"Dune"}',
          private: 'on',
        })
        const [event] = await sse.waitForEvents(1)
        assert.equal(event?.lastEventId, id)
        assert.equal(event?.data, '{"title":"Dune"}')
      } finally {
        sse.close()
      }
    })

    it('resumes from Last-Event-ID with the updates published while the subscriber was away', async () => {
      const url = `${hubUrl}?topic=${encodeURIComponent('https://example.com/books/2')}`
      const first = await subscribeSse(url)
      const seen = await publish(hubUrl, publisher, {
        topic: 'https://example.com/books/2',
        data: 'before',
      })
      try {
        const [event] = await first.waitForEvents(1)
        assert.equal(event?.lastEventId, seen)
      } finally {
        first.close()
      }
      await first.ended
      const missed: string[] = []
      for (const data of ['while away 1', 'while away 2']) {
        missed.push(
          await publish(hubUrl, publisher, { topic: 'https://example.com/books/2', data }),
        )
      }
      const again = await subscribeSse(url, { 'last-event-id': seen })
      try {
        assert.equal(again.headers['last-event-id'], seen, 'the hub found the id it resumes from')
        const events = await again.waitForEvents(2)
        assert.deepEqual(
          events.map((e) => [e.lastEventId, e.data]),
          [
            [missed[0], 'while away 1'],
            [missed[1], 'while away 2'],
          ],
        )
        const live = await publish(hubUrl, publisher, {
          topic: 'https://example.com/books/2',
          data: 'live again',
        })
        const [, , next] = await again.waitForEvents(3)
        assert.equal(next?.lastEventId, live)
      } finally {
        again.close()
      }
    })

    it('ends its open streams and exits cleanly on SIGTERM', async () => {
      const sse = await subscribeSse(`${hubUrl}?topic=*`)
      assert.equal(sse.status, 200)
      const code = await app.stop()
      await sse.ended
      // `next start` waits for open connections, then exits 128 + 15 by design
      // (node_modules/next/dist/server/lib/start-server.js); the others exit 0.
      assert.equal(code, name === 'next-route-handler' ? 143 : 0, app.output())
    })
  })
}

describe('examples/deno, type-checked', {
  skip:
    missingRuntime('deno') !== null && process.env['REQUIRE_RUNTIMES'] !== '1'
      ? (missingRuntime('deno') as string)
      : false,
}, () => {
  it("type-checks with Deno's own types, ssehub/web's sources included", async () => {
    const { command } = commandOf('deno', '')
    const file = new URL('../examples/deno/server.ts', import.meta.url).pathname
    const { code, output } = await runToEnd(
      command,
      ['check', '--no-lock', '--conditions=source', file],
      // Deno type-checks ssehub's sources too: give it the time of a build.
      { env: { ...process.env, NO_COLOR: '1' }, timeoutMs: NEXT_BUILD_TIMEOUT_MS },
    )
    assert.equal(code, 0, output)
  })
})

describe('examples/otel-console.ts', () => {
  it('prints the spans of one subscription and one publish, and exits by itself', async () => {
    const file = new URL('../examples/otel-console.ts', import.meta.url).pathname
    const { command, args } = commandOf('node', file)
    const { code, output } = await runToEnd(command, args, { timeoutMs: START_TIMEOUT_MS })
    assert.equal(code, 0, output)
    assert.match(output, /^published: 200 urn:uuid:/m)
    assert.match(output, /^received: .*Dune/m)
    const names = [...output.matchAll(/^ {2}name: '([^']+)',$/gm)].map(([, name]) => name)
    assert.deepEqual(names.sort(), [
      'app.publish',
      'auth',
      'auth',
      'dispatch',
      'publish',
      'store.commit',
      'subscribe',
    ])
  })
})

// Issue #12, item 3: the examples in examples/ run as their users run them, each in a process of
// its own, importing `ssehub/node` by the package's name. Node resolves that name through this
// package's own `exports` (a package may import itself by name); `--conditions=source` selects
// the TypeScript sources there instead of dist/, so the examples need no build, and tsx runs them.
// Each test publishes with a token, receives the update over SSE, and resumes with Last-Event-ID.

import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { mintToken } from '../src/hub/mint-token.ts'
import { TEST_SECRET } from './helpers/hub-server.ts'
import { subscribeSse } from './helpers/sse-events.ts'

const EXAMPLES = ['express', 'fastify', 'koa', 'hono-node', 'bun', 'deno'] as const

/**
 * How an example runs: on Node through tsx, or on Bun and Deno from their npm packages (development
 * dependencies), each on ssehub's sources (`--conditions=source`).
 */
function commandOf(name: string, file: string): { command: string; args: string[] } {
  const bin = (runtime: string) =>
    new URL(`../node_modules/.bin/${runtime}`, import.meta.url).pathname
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
  const child = spawn(command, args, {
    env: { ...process.env, SSEHUB_JWT_KEY: TEST_SECRET, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const collect = (chunk: string): void => {
    output += chunk
  }
  child.stdout?.setEncoding('utf8').on('data', collect)
  child.stderr?.setEncoding('utf8').on('data', collect)
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`examples/${name} did not start within 60 s: ${output}`))
    }, START_TIMEOUT_MS)
    const check = (): void => {
      const match = /listening on (http:\/\/\S+?)\/?\s/.exec(output)
      if (match === null) return
      clearTimeout(timer)
      child.stdout?.off('data', check)
      child.off('exit', exited)
      resolve(match[1] as string)
    }
    const exited = (code: number | null): void => {
      clearTimeout(timer)
      reject(new Error(`examples/${name} exited with ${code}: ${output}`))
    }
    child.stdout?.on('data', check)
    child.once('exit', exited)
  })
  return {
    child,
    base,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      const [code] = (await exited) as [number | null]
      return code
    },
  }
}

/** Posts one update with `token`; fails the test unless the hub answers 200; resolves with its id. */
async function publish(hubUrl: string, token: string, fields: Record<string, string>) {
  const res = await fetch(hubUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Bearer ${token}`,
    },
    body: new URLSearchParams(fields).toString(),
    signal: AbortSignal.timeout(10_000),
  })
  const text = await res.text()
  assert.equal(res.status, 200, `publish answered ${res.status}: ${text}`)
  return text
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

    it('ends its open streams and exits 0 on SIGTERM', async () => {
      const sse = await subscribeSse(`${hubUrl}?topic=*`)
      assert.equal(sse.status, 200)
      const code = await app.stop()
      await sse.ended
      assert.equal(code, 0, app.output())
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
    const child = spawn(command, ['check', '--no-lock', '--conditions=source', file], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
    })
    const [code] = (await once(child, 'exit')) as [number | null]
    assert.equal(code, 0, output)
  })
})

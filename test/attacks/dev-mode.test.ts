import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { request } from 'node:http'
import { after, before, describe, it } from 'node:test'
import { startHubProcess } from '../helpers/hub-process.ts'
import { startTestHub, TEST_SECRET, type TestHub } from '../helpers/hub-server.ts'

const CLI = new URL('../../src/server/cli.ts', import.meta.url).pathname

/** The environment without any ssehub or Mercure setting (so no key: development mode). */
function freshEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(SSEHUB|MERCURE)_/.test(name) && name !== 'HOST') {
      env[name] = value
    }
  }
  return { ...env, SSEHUB_STORE: 'memory', SSEHUB_LOG_FORMAT: 'json', ...extra }
}

/** Runs the CLI with `args`; resolves with its output once `done` holds or it exits (60 s bound). */
async function runCli(
  args: string[],
  env: Record<string, string>,
  done: (output: string) => boolean,
): Promise<{ child: ChildProcess; output: string; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = once(child, 'exit')
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`no result within 60 s: ${output}`))
    }, 60_000)
    const check = (chunk: string): void => {
      output += chunk
      if (!done(output)) return
      clearTimeout(timer)
      resolve({ child, output, code: null })
    }
    child.stdout?.setEncoding('utf8').on('data', check)
    child.stderr?.setEncoding('utf8').on('data', check)
    exited.then(([code]) => {
      clearTimeout(timer)
      resolve({ child, output, code: code as number | null })
    })
  })
}

describe('development mode without HOST', () => {
  let child: ChildProcess | undefined
  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    }
  })

  it('listens on 127.0.0.1 only', async () => {
    const run = await runCli(['--port', '0'], freshEnv({}), (output) =>
      /"url":"[^"]+"/.test(output),
    )
    child = run.child
    // The address the server is bound to (every interface would be shown as localhost).
    const url = /"url":"([^"]+)"/.exec(run.output)?.[1]
    assert.match(url ?? '', /^http:\/\/127\.0\.0\.1:\d+$/, run.output)
    const health = await fetch(`${url}/healthz`)
    assert.equal(health.status, 200)
  })
})

describe('the start with a weak JWT key', () => {
  it('warns about the well-known example secret, without printing it', async () => {
    const hub = await startHubProcess({
      SSEHUB_JWT_KEY: '!ChangeThisMercureHubJWTSecretKey!',
      SSEHUB_STORE: 'memory',
    })
    try {
      const warnings = hub
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string })
        .filter((line) => line.level === 40 && /insecure JWT key/.test(line.msg))
      assert.equal(warnings.length, 1, hub.output())
      assert.match(warnings[0]?.msg ?? '', /publisher key and the subscriber key: .*well-known/)
      assert.ok(!hub.output().includes('ChangeThis'), 'the key is never printed')
    } finally {
      await hub.stop()
    }
  })

  it('refuses to start with a secret shorter than HS256 needs (32 bytes)', async () => {
    const run = await runCli(
      ['--port', '0', '--host', '127.0.0.1'],
      freshEnv({ SSEHUB_JWT_KEY: 'too-short-a-secret' }),
      () => false,
    )
    assert.equal(run.code, 2, run.output)
    assert.match(run.output, /shorter than 32 bytes, too short for HS256/)
    assert.ok(!run.output.includes('too-short-a-secret'), 'the key is never printed')
  })
})

describe('the chat API against DNS rebinding and CSRF', () => {
  let hub: TestHub
  let port: number
  before(async () => {
    hub = await startTestHub(
      { subscriptions: true, anonymous: false },
      { chat: { signingKey: TEST_SECRET, allowedHosts: ['hub.test'] } },
    )
    port = Number(new URL(hub.base).port)
  })
  after(() => hub.close())

  /** Posts a join with these Host and Origin headers (fetch cannot set Host); resolves the status. */
  const join = (host: string, origin: string): Promise<number> =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ nickname: 'Mallory', room: 'lobby' })
      const req = request(
        {
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/apps/chat/api/join',
          headers: { host, origin, 'content-type': 'application/json' },
          agent: false,
        },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      req.on('error', reject)
      req.end(body)
    })

  it('refuses a foreign Host, as a rebound DNS name sends it, with 403', async () => {
    const foreign = `evil.example:${port}`
    assert.equal(await join(foreign, `http://${foreign}`), 403)
  })

  it('refuses a foreign Origin (CSRF) with 403', async () => {
    assert.equal(await join(`127.0.0.1:${port}`, `http://evil.example:${port}`), 403)
  })

  it("answers the hub's own names: localhost, IP addresses, and the allowed hosts", async () => {
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'hub.test']) {
      assert.equal(await join(host, `http://${host}`), 200, host)
    }
  })
})

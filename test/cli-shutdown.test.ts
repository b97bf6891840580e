import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { describe, it } from 'node:test'
import { openRawSse } from './helpers/raw-sse.ts'

const CLI = new URL('../src/server/cli.ts', import.meta.url).pathname

/** Starts the CLI on a free port and resolves with the process and its base URL. */
async function startCli(env: Record<string, string> = {}) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, '--port', '0', '--host', '127.0.0.1'],
    {
      env: { ...process.env, SSEHUB_LOG_FORMAT: 'json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  let output = ''
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output)
      if (match) resolve(match[1] as string)
    })
    child.once('exit', (code) =>
      reject(new Error(`exited with ${code} before listening: ${output}`)),
    )
  })
  return { child, url, output: () => output }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer()
    probe.once('error', () => resolve(false))
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)))
  })
}

describe('the ssehub CLI', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`closes streams, frees the port and exits 0 on ${signal}`, async () => {
      const { child, url, output } = await startCli()
      const sse = await openRawSse(`${url}/demo/clock/stream`)
      await sse.waitFor((text) => text.includes('YOUR ID IS'))
      const exited = once(child, 'exit')
      child.kill(signal)
      await sse.ended
      const [code] = await exited
      assert.equal(code, 0, output())
      assert.match(output(), /shutting down/)
      assert.ok(await portIsFree(Number(new URL(url).port)), 'the port is free again')
    })
  }

  it('refuses a bad setting with a message and exit code 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI], {
      env: { ...process.env, PORT: 'http' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    const [code] = await once(child, 'exit')
    assert.equal(code, 2)
    assert.match(stderr, /PORT must be a whole number from 0 to 65535, got "http"/)
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { runToEnd, waitForOutput } from './helpers/child-process.ts'
import { startHubProcess } from './helpers/hub-process.ts'

// The CLI's protocol settings end to end: what the startup log says of them, and how a mistake
// stops the start.

const CLI = new URL('../src/server/cli.ts', import.meta.url).pathname
const ISSUER_KEY = 'issuer-key-that-must-never-be-logged-0123456789'

/** The fields of a JSON log line that these tests read. */
interface LogLine {
  readonly level?: number
  readonly msg?: string
  readonly protocols?: unknown
  readonly trustedIssuers?: unknown
}

describe('ssehub with protocol settings', () => {
  it('logs the protocols, the trusted issuers by name and the pinned identifier, never a key', async () => {
    const hub = await startHubProcess({
      SSEHUB_TRUSTED_ISSUERS: JSON.stringify([
        { issuer: 'https://auth.example.com', key: ISSUER_KEY },
        { issuer: 'my-app' },
      ]),
      SSEHUB_RESOURCE_IDENTIFIER: 'http://127.0.0.1/.well-known/mercure',
    })
    try {
      await waitForOutput(hub, /"msg":"Mercure [^"]*"/, 'the protocols line', 10_000)
      const lines = hub
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as LogLine)
      const summary = lines.find((line) => String(line.msg).startsWith('Mercure '))
      assert.ok(summary)
      assert.equal(
        summary.msg,
        'Mercure 1.0 and 0.x; 1.0 tokens from https://auth.example.com, my-app; resource identifier pinned: http://127.0.0.1/.well-known/mercure',
      )
      assert.deepEqual(summary.protocols, ['1.0', '0.x'])
      assert.deepEqual(summary.trustedIssuers, ['https://auth.example.com', 'my-app'])
      assert.ok(
        lines.some(
          (line) =>
            line.level === 40 &&
            /resource identifier http:\/\/127\.0\.0\.1\/\.well-known\/mercure is not https/.test(
              String(line.msg),
            ),
        ),
        'a warning for the identifier over plain HTTP',
      )
      assert.ok(!hub.output().includes(ISSUER_KEY), 'no key in the output')
    } finally {
      await hub.stop()
    }
  })

  it('logs the default: ssehub trusted, the identifier derived', async () => {
    const hub = await startHubProcess({})
    try {
      const [line] = await waitForOutput(hub, /"msg":"Mercure [^"]*"/, 'the protocols line', 10_000)
      assert.equal(
        line,
        '"msg":"Mercure 1.0 and 0.x; 1.0 tokens from ssehub; resource identifier derived per request: <scheme>://<host>/.well-known/mercure"',
      )
    } finally {
      await hub.stop()
    }
  })

  it('stops the start with exit code 2 and a message naming the setting', async () => {
    const { code, output } = await runToEnd(
      process.execPath,
      ['--import', 'tsx', CLI, '--port', '0', '--host', '127.0.0.1', '--protocols', '2.0'],
      { env: { ...process.env, SSEHUB_JWT_KEY: 'k'.repeat(40) }, timeoutMs: 60_000 },
    )
    assert.equal(code, 2)
    assert.match(output, /^ssehub: --protocols lists "2\.0": the protocols are 1\.0 and 0\.x\./m)
  })
})

import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { mintToken } from '../src/hub/mint-token.ts'
import { TEST_SECRET } from './helpers/hub-server.ts'
import { subscribeSse } from './helpers/sse-events.ts'

const CLI = new URL('../src/server/cli.ts', import.meta.url).pathname

/** Starts the real CLI on a free port with the given store; resolves with its hub URL. */
async function startHubProcess(store: string): Promise<{ child: ChildProcess; hubUrl: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI, '--port', '0', '--host', '127.0.0.1'],
    {
      env: {
        ...process.env,
        SSEHUB_STORE: store,
        SSEHUB_JWT_KEY: TEST_SECRET,
        SSEHUB_ANONYMOUS: 'true',
        SSEHUB_LOG_FORMAT: 'json',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  let output = ''
  const hubUrl = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output)
      if (match) resolve(`${match[1]}/.well-known/mercure`)
    })
    child.once('exit', (code) => reject(new Error(`hub exited with ${code}: ${output}`)))
  })
  return { child, hubUrl }
}

describe('a hub killed with SIGKILL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-crash-'))
  const store = `sqlite:${join(dir, 'hub.db')}`
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('keeps every acknowledged update: a subscriber resuming from the 500th gets 501 to 1000 in order', async () => {
    const token = await mintToken({ key: TEST_SECRET, publish: ['*'] })
    const first = await startHubProcess(store)
    for (let n = 1; n <= 1000; n++) {
      const res = await fetch(first.hubUrl, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Bearer ${token}`,
        },
        body: new URLSearchParams({
          topic: 'urn:crash',
          id: `urn:crash:${n}`,
          data: `update ${n}`,
        }).toString(),
      })
      assert.equal(res.status, 200)
      assert.equal(await res.text(), `urn:crash:${n}`)
    }
    const exited = once(first.child, 'exit')
    first.child.kill('SIGKILL')
    await exited

    const second = await startHubProcess(store)
    try {
      const sub = await subscribeSse(`${second.hubUrl}?topic=urn:crash`, {
        'last-event-id': 'urn:crash:500',
      })
      assert.equal(sub.headers['last-event-id'], 'urn:crash:500')
      await sub.waitForEvents(500, 20_000)
      assert.deepEqual(
        sub.events.map((e) => e.lastEventId),
        Array.from({ length: 500 }, (_, i) => `urn:crash:${501 + i}`),
      )
      assert.equal(sub.events[499]?.data, 'update 1000')
      sub.close()
    } finally {
      second.child.kill('SIGTERM')
      await once(second.child, 'exit')
    }
  })
})

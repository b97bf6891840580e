import assert from 'node:assert/strict'
import { type ChildProcessWithoutNullStreams, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { promisify } from 'node:util'
import type { Browser } from 'playwright-core'
import { browserSkipReason, launchBrowser } from './helpers/browser.ts'
import { openRawSse } from './helpers/raw-sse.ts'

const CLI = new URL('../src/server/cli.ts', import.meta.url).pathname
const run = promisify(execFile)
const browserSkip = browserSkipReason() ?? false

/** The environment of a fresh clone: no ssehub or Mercure setting at all, so no key. */
function freshEnv(dir: string): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(SSEHUB|MERCURE)_/.test(name)) env[name] = value
  }
  return { ...env, SSEHUB_STORE: `sqlite:${join(dir, 'ssehub.db')}`, SSEHUB_LOG_FORMAT: 'json' }
}

describe('the first run (development mode)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-dev-mode-'))
  let child: ChildProcessWithoutNullStreams
  let stdout = ''
  let stderr = ''
  let exited: Promise<unknown[]>
  /** What the banner printed. */
  let printed: { token: string; curl: string; demo: string; base: string }
  let browser: Browser | undefined

  before(async () => {
    // What `npm start` runs, on a free loopback port.
    child = spawn(
      process.execPath,
      ['--import', 'tsx', CLI, '--port', '0', '--host', '127.0.0.1'],
      { env: freshEnv(dir), stdio: 'pipe' },
    )
    child.stdin.end()
    exited = once(child, 'exit')
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no curl command printed within 15 s: ${stdout}${stderr}`)),
        15_000,
      )
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        stdout += chunk
        if (/^\s*curl .*\n/m.test(stdout)) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`exited with ${code} before printing the banner: ${stdout}${stderr}`))
      })
    })
    const url = /"url":"(http:\/\/[^"]+)"/.exec(stdout)?.[1]
    const token = /Publisher token[^\n]*\n\s*(\S+)/.exec(stdout)?.[1]
    const curl = /^\s*(curl .*)$/m.exec(stdout)?.[1]
    const demo = /^\s*Open (\S+) and publish to it/m.exec(stdout)?.[1]
    assert.ok(url && token && curl && demo, `the banner: ${stdout}`)
    printed = { token, curl, demo, base: url }
  })

  after(async () => {
    await browser?.close()
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await exited
    }
    rmSync(dir, { recursive: true, force: true })
  })

  it('prints the development-mode notice, a token and a curl command that publishes', () => {
    assert.match(stdout, /ssehub is running in development mode/)
    assert.match(stdout, /No JWT key is configured/)
    assert.match(stdout, /"devMode":true/)
    assert.match(stdout, /"store":"sqlite"/)
    assert.ok(existsSync(join(dir, 'ssehub.db')), 'the store is the SQLite file SSEHUB_STORE names')
    assert.match(printed.base, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.match(printed.token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, 'a JWT')
    const [header, claims] = printed.token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')))
    // A Mercure 1.0 access token from the issuer the hub trusts by default, for this URL.
    assert.equal(header.typ, 'at+jwt')
    assert.equal(claims.iss, 'ssehub')
    assert.equal(claims.aud, `${printed.base}/.well-known/mercure`)
    assert.deepEqual(
      claims.authorization_details.map((detail: { actions: string[]; topics: unknown[] }) => [
        detail.actions,
        detail.topics,
      ]),
      [
        [['publish'], [{ match: '*' }]],
        [['subscribe'], [{ match: '*' }]],
      ],
    )
    const legacy = /Mercure 0\.x token:\n\s*(\S+)/.exec(stdout)?.[1] ?? ''
    const legacyClaims = JSON.parse(
      Buffer.from(legacy.split('.')[1] as string, 'base64url').toString('utf8'),
    )
    assert.deepEqual(legacyClaims.mercure, { publish: ['*'], subscribe: ['*'] })
    assert.equal(printed.demo, `${printed.base}/demo/hub/`)
    assert.ok(printed.curl.includes(`Bearer ${printed.token}`), printed.curl)
    assert.ok(printed.curl.endsWith(` ${printed.base}/.well-known/mercure`), printed.curl)
    assert.match(printed.curl, /-d 'topic=https:\/\/example\.com\/demo'/)
    assert.match(printed.curl, /-d 'data=Hello from curl'/)
  })

  it('lets an anonymous subscriber in', async () => {
    const sse = await openRawSse(
      `${printed.base}/.well-known/mercure?topic=${encodeURIComponent('https://example.com/demo')}`,
    )
    assert.equal(sse.res.statusCode, 200)
    assert.equal(sse.res.headers['content-type'], 'text/event-stream; charset=utf-8')
    await sse.waitFor((text) => text.startsWith(':'))
    sse.abort()
  })

  it('refuses to publish without the token', async () => {
    const res = await fetch(`${printed.base}/.well-known/mercure`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ topic: 'https://example.com/demo', data: 'anonymous' }),
    })
    assert.equal(res.status, 401, await res.text())
    assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/)
  })

  it('turns the dashboard on with a generated admin token, printed and never logged', async () => {
    const token = /sign in with this admin token[^\n]*\n\s*(\S+)/.exec(stdout)?.[1] ?? ''
    assert.match(token, /^[A-Za-z0-9_-]{32}$/, 'a random token of 24 bytes')
    assert.match(stdout, new RegExp(`open ${printed.base}/admin/ and sign in`))
    const logged = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .join('\n')
    assert.ok(!logged.includes(token) && !stderr.includes(token), 'the token is in no log line')
    const open = await fetch(`${printed.base}/admin/`, {
      headers: { authorization: `Bearer ${token}` },
    })
    assert.equal(open.status, 200)
    await open.body?.cancel()
    const closed = await fetch(`${printed.base}/admin/stats`)
    assert.equal(closed.status, 401)
    await closed.body?.cancel()
  })

  it('shows "Hello from curl" on the hub demo page when the printed curl command runs', {
    skip: browserSkip,
  }, async () => {
    await assert.doesNotReject(
      run('/bin/sh', ['-c', 'command -v curl']),
      'curl is needed to run the printed command',
    )
    browser = await launchBrowser()
    const page = await browser.newPage()
    await page.goto(printed.demo)
    await page.waitForSelector('#state[data-state="open"]')
    const { stdout: id } = await run('/bin/sh', ['-c', printed.curl])
    assert.match(id, /^urn:uuid:[0-9a-f-]{36}$/, 'curl printed the id the hub answered')
    await page.waitForFunction(
      () => document.querySelector('#updates li .data')?.textContent === 'Hello from curl',
      undefined,
      { timeout: 5000 },
    )
    assert.equal(await page.textContent('#updates li small'), id)
    await browser.close()
    browser = undefined
  })

  it('stops on SIGTERM with exit code 0', async () => {
    child.kill('SIGTERM')
    const [code] = await exited
    assert.equal(code, 0, `${stdout}${stderr}`)
  })
})

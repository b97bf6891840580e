import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { serveStatic } from './static-files.ts'

describe('serveStatic', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-static-'))
  const root = join(dir, 'web')
  mkdirSync(join(root, 'sub'), { recursive: true })
  writeFileSync(join(root, 'index.html'), '<h1>home</h1>')
  writeFileSync(join(root, 'sub', 'app.js'), 'console.log(1)')
  writeFileSync(join(dir, 'secret.json'), '{"key":"do-not-serve"}')
  // A file that exists but cannot be read: reading it fails with ELOOP, as it would with EMFILE.
  symlinkSync('loop.js', join(root, 'loop.js'))
  const server = createServer(async (req, res) => {
    if (!(await serveStatic(res, (req.url ?? '/').split('?')[0] as string, {}, `${root}/`))) {
      res.writeHead(404).end('missing')
    }
  })
  let base = ''
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  after(async () => {
    await new Promise((resolve) => server.close(resolve))
    rmSync(dir, { recursive: true, force: true })
  })

  it('serves index.html for a folder and files with their type and security headers', async () => {
    const home = await fetch(`${base}/`)
    assert.equal(home.status, 200)
    assert.equal(home.headers.get('content-type'), 'text/html; charset=utf-8')
    assert.equal(home.headers.get('x-content-type-options'), 'nosniff')
    assert.equal(await home.text(), '<h1>home</h1>')
    const script = await fetch(`${base}/sub/app.js`)
    assert.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8')
  })

  it('never serves a file outside its root, however the path is spelled', async () => {
    const { request } = await import('node:http')
    for (const path of [
      '/../secret.json',
      '/%2e%2e/secret.json',
      '/sub/%2E%2E%2F..%2Fsecret.json',
      '/%00',
      '/%E0%A4%A',
    ]) {
      const status = await new Promise<number | undefined>((resolve, reject) => {
        // A raw request: fetch would normalize the dots away before sending.
        request({ host: '127.0.0.1', port: new URL(base).port, path }, (res) => {
          res.resume()
          resolve(res.statusCode)
        })
          .on('error', reject)
          .end()
      })
      assert.equal(status, 404, path)
    }
  })

  it('answers 503, not 404, for a file it cannot read now (an I/O error, EMFILE)', async () => {
    const res = await fetch(`${base}/loop.js`)
    assert.equal(res.status, 503)
    assert.equal(res.headers.get('retry-after'), '1')
    assert.equal((await fetch(`${base}/missing.js`)).status, 404)
    assert.equal((await fetch(`${base}/sub/app.js/x.js`)).status, 404, 'ENOTDIR')
  })
})

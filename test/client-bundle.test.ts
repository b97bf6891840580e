import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { after, before, describe, it } from 'node:test'
import { gzipSync } from 'node:zlib'
import { buildClientBundle } from '../scripts/build-client.ts'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'

const COMMITTED = new URL('../web/client.js', import.meta.url)
const MAX_GZIPPED_BYTES = 10 * 1024

describe('the browser bundle of ssehub/client (web/client.js)', () => {
  let built: Uint8Array
  before(async () => {
    built = await buildClientBundle()
  })

  it('is what npm run build:client makes from src/client today', async () => {
    const committed = await readFile(COMMITTED)
    assert.ok(
      Buffer.from(built).equals(committed),
      'web/client.js is stale: run `npm run build:client` and commit the result',
    )
  })

  it('stays under 10 KB minified and gzipped', () => {
    const gzipped = gzipSync(built, { level: 9 }).byteLength
    process.stdout.write(`client bundle: ${built.byteLength} B minified, ${gzipped} B gzipped\n`)
    assert.ok(gzipped < MAX_GZIPPED_BYTES, `${gzipped} B gzipped`)
  })

  it('exports the client API as an ES module', async () => {
    const url = `data:text/javascript;base64,${Buffer.from(built).toString('base64')}`
    const module = (await import(url)) as Record<string, unknown>
    for (const name of [
      'SseClient',
      'createClient',
      'subscriptionUrl',
      'SseErrorEvent',
      'SseGapEvent',
    ]) {
      assert.equal(typeof module[name], 'function', name)
    }
  })

  describe('served by the hub', () => {
    let hub: TestHub
    before(async () => {
      hub = await startTestHub()
    })
    after(() => hub.close())

    it('answers /client.js with the bundle as JavaScript', async () => {
      const res = await fetch(`${hub.base}/client.js`)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/)
      assert.ok(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(built)))
    })
  })
})

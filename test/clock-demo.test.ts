import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { createSsehubServer } from '../src/server/server.ts'
import { eventually, openRawSse, sleep } from './helpers/raw-sse.ts'

const MESSAGE =
  /^data: ([0-9a-f]{5}) - Message #(\d+) from server sent on (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) - RN: (\d+)$/

describe('the clock demo', () => {
  const hub = createSsehubServer({ heartbeatMs: null, clockIntervalMs: 50 })
  let base = ''
  before(async () => {
    base = (await hub.listen(0, '127.0.0.1')).url
  })
  after(() => hub.close())

  it('names the connection, then sends numbered, dated messages', async () => {
    const sse = await openRawSse(`${base}/demo/clock/stream`)
    const text = await sse.waitFor((t) => t.includes('Message #3 '))
    sse.abort()
    const lines = text.split('\n').filter((line) => line.startsWith('data: '))
    const id = /^data: YOUR ID IS ([0-9a-f]{5})$/.exec(lines[0] ?? '')?.[1]
    assert.ok(id, `first message names the connection: ${lines[0]}`)
    for (const [n, line] of lines.slice(1).entries()) {
      const match = MESSAGE.exec(line)
      assert.ok(match, `message format: ${line}`)
      assert.equal(match[1], id)
      assert.equal(Number(match[2]), n)
      assert.ok(Math.abs(Date.parse(match[3] as string) - Date.now()) < 60_000)
      const rn = Number(match[4])
      assert.ok(rn >= 1 && rn <= 10_000, `RN in 1..10000: ${rn}`)
    }
  })

  it('gives two connections two different ids', async () => {
    const a = await openRawSse(`${base}/demo/clock/stream`)
    const b = await openRawSse(`${base}/demo/clock/stream`)
    const idOf = async (sse: typeof a) =>
      /YOUR ID IS ([0-9a-f]{5})/.exec(await sse.waitFor((t) => t.includes('YOUR ID IS')))?.[1]
    const [idA, idB] = await Promise.all([idOf(a), idOf(b)])
    a.abort()
    b.abort()
    assert.notEqual(idA, idB)
  })

  it('stops its timer the moment the client disconnects', async () => {
    await eventually(() => hub.clock.active === 0, 'earlier clocks stopped')
    const sse = await openRawSse(`${base}/demo/clock/stream`)
    await sse.waitFor((t) => t.includes('Message #1 '))
    assert.equal(hub.clock.active, 1)
    sse.abort()
    await eventually(() => hub.clock.active === 0, 'clock stopped after disconnect', 1000)
    assert.equal(hub.openStreams, 0)
  })

  it('serves its page, which links the stream', async () => {
    const res = await fetch(`${base}/demo/clock/`)
    assert.equal(res.status, 200)
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/)
    const html = await res.text()
    assert.match(html, /id="result"[^>]*>Loading\.\.\.</)
    const script = await (await fetch(`${base}/demo/clock/clock.js`)).text()
    assert.match(script, /new EventSource\('stream'\)/)
    await sleep(0)
  })

  it('answers 405 to a POST on the stream', async () => {
    const res = await fetch(`${base}/demo/clock/stream`, { method: 'POST' })
    assert.equal(res.status, 405)
    assert.match(await res.text(), /Use GET/)
  })
})

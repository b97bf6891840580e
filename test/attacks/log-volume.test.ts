import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect } from 'node:net'
import { Writable } from 'node:stream'
import { describe, it } from 'node:test'
import { pino } from 'pino'
import { StoreUnavailableError } from '../../src/hub/event-store.ts'
import type { Update } from '../../src/hub/update.ts'
import type { Logger } from '../../src/server/logger.ts'
import { createMemoryStore } from '../../src/storage/memory.ts'
import { startTestHub } from '../helpers/hub-server.ts'
import { sleep } from '../helpers/raw-sse.ts'

/** The fields of a log line these tests read. */
interface LogLine {
  msg: string
  err?: unknown
  clientErrors?: { aborted?: number }
  failures?: number
}

/** A pino logger at `info` whose lines land in an array, parsed. */
function capturingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line !== '') lines.push(JSON.parse(line))
      }
      done()
    },
  })
  return { logger: pino<never>({ level: 'info' }, sink), lines }
}

/** Sends a publish's headers and part of its body, then drops the connection. */
async function abortedUpload(port: number, token: string): Promise<void> {
  const socket = connect({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  await once(socket, 'connect')
  socket.write(
    `POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\ntopic=urn%3Aupload&data=${'a'.repeat(1000)}`,
  )
  // Long enough for the hub to check the token and start reading the body, also on a machine
  // busy with the rest of the suite (30 ms was not, once in a while: an upload dropped before its
  // headers were read is no aborted upload).
  await sleep(100)
  socket.destroy()
}

describe('logs under attack', () => {
  it('logs 1,000 aborted uploads as a few lines of counts, not a stack trace each', async () => {
    const { logger, lines } = capturingLogger()
    const hub = await startTestHub({}, { logger })
    const port = Number(new URL(hub.base).port)
    const token = await hub.token({ publish: ['*'] })
    // Bounded: 20 rounds of 50 concurrent uploads.
    for (let round = 0; round < 20; round++) {
      await Promise.all(Array.from({ length: 50 }, () => abortedUpload(port, token)))
    }
    await sleep(200)
    await hub.close()
    const counted = lines.filter((line) => /^client errors in the last/.test(line.msg))
    assert.ok(lines.length < 20, `${lines.length} lines: ${JSON.stringify(lines.slice(0, 3))}`)
    assert.equal(lines.filter((line) => line.err !== undefined).length, 0, 'no stack traces')
    const aborted = counted.reduce((sum, line) => sum + (line.clientErrors?.aborted ?? 0), 0)
    assert.ok(aborted >= 900, `${aborted} aborted uploads counted`)
    assert.match(counted[0]?.msg ?? '', /client errors in the last [\d.]+ s: aborted \d+/)
  })

  it('logs a full disk once, then once when the store recovers, whatever the publishes', async () => {
    const { logger, lines } = capturingLogger()
    const memory = createMemoryStore()
    let full = true
    // The memory store, with the appends of a disk that is full until `full` is false.
    const store = new Proxy(memory, {
      get(target, property, receiver) {
        if (property === 'append') {
          return (update: Update) =>
            full
              ? Promise.reject(
                  new StoreUnavailableError(
                    'could not commit 1 update(s) to SQLite: the disk or the database is full',
                  ),
                )
              : target.append(update)
        }
        const value = Reflect.get(target, property, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
    const hub = await startTestHub({ store }, { logger })
    const failures = await Promise.all(
      Array.from({ length: 200 }, (_, n) => hub.publish({ topic: 'urn:disk', data: `${n}` })),
    )
    for (const res of failures) {
      assert.equal(res.status, 503)
      await res.text()
    }
    full = false
    await hub.publishOk({ topic: 'urn:disk', data: 'space again' })
    await hub.close()
    await memory.close()
    const failing = lines.filter((line) => /store unavailable/.test(line.msg))
    const recovered = lines.filter((line) => /store available again/.test(line.msg))
    assert.equal(failing.length, 1, JSON.stringify(lines.slice(0, 3)))
    assert.equal(recovered.length, 1)
    assert.equal(recovered[0]?.failures, 200)
    assert.ok(lines.length <= 3, `${lines.length} lines`)
  })
})

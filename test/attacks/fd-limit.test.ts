import assert from 'node:assert/strict'
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import { after, before, describe, it } from 'node:test'
import { TEST_SECRET } from '../helpers/hub-server.ts'
import { eventually, sleep } from '../helpers/raw-sse.ts'

const CLI = new URL('../../src/server/cli.ts', import.meta.url).pathname

/** A keep-alive HTTP/1.1 connection: what it received, and whether the server closed it. */
interface Connection {
  readonly socket: Socket
  text(): string
  closed(): boolean
}

async function open(port: number): Promise<Connection> {
  const socket = connect({ port, host: '127.0.0.1' })
  socket.on('error', () => {})
  let text = ''
  let closed = false
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk))
  socket.on('close', () => (closed = true))
  await Promise.race([once(socket, 'connect'), once(socket, 'close')])
  return { socket, text: () => text, closed: () => closed }
}

/** Sends GET `path` and resolves with the status of its answer, or `null` if none in 2 s. */
async function get(connection: Connection, path: string): Promise<number | null> {
  const before = connection.text().length
  connection.socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)
  const deadline = Date.now() + 2000
  while (Date.now() < deadline && !connection.closed()) {
    const answer = /^HTTP\/1\.1 (\d{3}) /.exec(connection.text().slice(before))
    if (answer) {
      // Let the rest of the answer arrive, so the next request's answer is not mixed with it.
      await sleep(50)
      return Number(answer[1])
    }
    await sleep(10)
  }
  return null
}

describe('a hub at its open-files limit (ulimit -n 64, no connection cap)', () => {
  let child: ChildProcess
  let output = ''
  let port = 0
  const connections: Connection[] = []
  before(async () => {
    // The limit is lowered in the shell that execs the hub; the hub alone runs under it.
    child = spawn(
      '/bin/sh',
      [
        '-c',
        `ulimit -n 64 && exec "$0" --import tsx "$1" --port 0 --host 127.0.0.1`,
        process.execPath,
        CLI,
      ],
      {
        env: {
          ...process.env,
          SSEHUB_JWT_KEY: TEST_SECRET,
          SSEHUB_STORE: 'memory',
          SSEHUB_LOG_FORMAT: 'json',
          SSEHUB_MAX_CONNECTIONS: 'off',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const collect = (chunk: string): void => {
      output += chunk
    }
    child.stdout?.setEncoding('utf8').on('data', collect)
    child.stderr?.setEncoding('utf8').on('data', collect)
    await eventually(() => /"url":"http:\/\/127\.0\.0\.1:\d+"/.test(output), output, 60_000)
    port = Number(/"url":"http:\/\/127\.0\.0\.1:(\d+)"/.exec(output)?.[1])
  })
  after(async () => {
    for (const connection of connections) connection.socket.destroy()
    if (child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit')
      child.kill('SIGKILL')
      await exited
    }
  })

  it('closes new connections at accept, keeps serving the open ones, and answers 503 for files', async () => {
    // Bounded: at most 100 connections; the hub runs out of descriptors at about 40.
    let refused: Connection | undefined
    for (let n = 0; n < 100 && refused === undefined; n++) {
      const connection = await open(port)
      connections.push(connection)
      if ((await get(connection, '/healthz')) !== 200) refused = connection
    }
    assert.ok(refused, `every connection was served: ${output}`)
    assert.ok(refused.closed(), 'a connection past the limit is closed, not left hanging')
    const served = connections.filter((connection) => connection !== refused).slice(-5)
    for (const connection of served) assert.equal(await get(connection, '/healthz'), 200)
    // A file needs a descriptor too: it cannot be read now, which is not "not found".
    assert.equal(await get(served[0] as Connection, '/demo/clock/'), 503)
    assert.equal(child.exitCode, null, `the hub is still running: ${output}`)

    // Descriptors freed: new connections and files are served again.
    for (const connection of connections.splice(0, 10)) connection.socket.destroy()
    await sleep(200)
    const next = await open(port)
    connections.push(next)
    assert.equal(await get(next, '/healthz'), 200)
    assert.equal(await get(next, '/demo/clock/'), 200)
  })
})

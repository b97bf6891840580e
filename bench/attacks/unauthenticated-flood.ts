// Flood of publishes without a token (issue #11, item 2):
//
//   node --import tsx bench/attacks/unauthenticated-flood.ts [--connections 1000]
//     [--body-bytes 1000000] [--hold 15] [--cli <path to another checkout's src/server/cli.ts>]
//
// Starts the hub as a child process (the real CLI, memory store, loopback) and opens
// --connections connections at once, each posting a form without a token that declares 40 kB
// more than the --body-bytes it writes (in 64 KiB pieces, as fast as the hub takes them), so no
// body ever ends; the connections are kept open for --hold seconds, or until the hub closes them.
// Meanwhile a publisher with a token publishes every 50 ms. It reports the hub's resident memory
// (VmRSS from /proc/<pid>/status every 100 ms, its maximum, and the kernel's VmHWM), how the flood
// was answered, and the latency of the publishes with a token before, during and after the flood.
// The acceptance of issue #11: RSS under 200 MB, and publishes with a token answered as usual.
// The flood runs in a process of its own, so its writes do not delay the measured publishes.
// Everything is bounded: the run ends within --hold + 120 seconds.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { connect, type Socket } from 'node:net'
import { parseArgs } from 'node:util'
import { mintToken } from '../../src/hub/mint-token.ts'
import { TEST_SECRET } from '../../test/helpers/hub-server.ts'
import { createHubNode } from '../soak/hub-node.ts'

const PIECE = Buffer.alloc(64 * 1024, 'x')
const FORM_HEAD = Buffer.from('topic=https%3A%2F%2Fexample.com%2Fflood&data=')
/** Connections opened at once; the next wave waits for these to connect (listen backlog 511). */
const WAVE = 200
const MB = 1e6

/** What the flooding process is given. */
interface FloodParams {
  port: number
  connections: number
  bodyBytes: number
  holdMs: number
}

/** What the flooding process reports once every connection is done. */
interface FloodReport {
  statuses: Record<string, number>
  /** Milliseconds from each connection's first write to the first byte of its answer. */
  answerMs: number[]
  /** Connections the hub closed, and when (ms from their first write). */
  closedByHub: number
  closedMs: number[]
  bytesWritten: number
  /** Milliseconds from the first connection to the last body byte written (or closed). */
  writtenAfterMs: number
  elapsedMs: number
}

function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

function summary(values: readonly number[]): string {
  if (values.length === 0) return 'none'
  const f = (v: number): string => v.toFixed(1)
  return `n=${values.length} p50 ${f(percentile(values, 50))} ms, p99 ${f(percentile(values, 99))} ms, max ${f(Math.max(...values))} ms`
}

/** One flooding connection: posts `bodyBytes` of a body that never ends, and records the answer. */
function floodOne(params: FloodParams): {
  socket: Socket
  done: Promise<void>
  result: () => [string, number, number, number]
} {
  const socket = connect({ port: params.port, host: '127.0.0.1', allowHalfOpen: true })
  let head = ''
  let answeredAt = 0
  let closedAt = 0
  let written = 0
  const opened = performance.now()
  socket.setEncoding('latin1').on('data', (chunk: string) => {
    if (answeredAt === 0) answeredAt = performance.now()
    if (head.length < 64) head += chunk
  })
  socket.on('error', () => {})
  // Half-open: the hub's FIN (or reset) ends the connection for this client, which sends no more.
  const ended = (): void => {
    if (closedAt === 0) closedAt = performance.now()
  }
  socket.on('end', ended).on('close', ended)
  const write = async (chunk: Buffer | string): Promise<void> => {
    if (socket.write(chunk)) return
    await new Promise<void>((resolve) => {
      const go = (): void => {
        socket.off('drain', go).off('close', go)
        resolve()
      }
      socket.on('drain', go).on('close', go)
    })
  }
  const done = (async () => {
    await write(
      'POST /.well-known/mercure HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        'Content-Type: application/x-www-form-urlencoded\r\n' +
        `Content-Length: ${params.bodyBytes + 40_000}\r\n\r\n`,
    )
    await write(FORM_HEAD)
    written = FORM_HEAD.byteLength
    // An attacker keeps writing after the answer and the hub's FIN: so does this client.
    while (written < params.bodyBytes && !socket.destroyed) {
      const piece = PIECE.subarray(0, Math.min(PIECE.byteLength, params.bodyBytes - written))
      await write(piece)
      written += piece.byteLength
    }
  })().catch(() => {})
  return {
    socket,
    done,
    result: () => {
      const status = /^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? (closedAt ? 'closed' : 'none')
      return [
        status,
        answeredAt === 0 ? -1 : answeredAt - opened,
        closedAt === 0 ? -1 : closedAt - opened,
        written,
      ]
    },
  }
}

async function runFlood(params: FloodParams): Promise<FloodReport> {
  const startedAt = performance.now()
  const clients: Array<ReturnType<typeof floodOne>> = []
  for (let opened = 0; opened < params.connections; opened += WAVE) {
    const wave = Array.from({ length: Math.min(WAVE, params.connections - opened) }, () =>
      floodOne(params),
    )
    clients.push(...wave)
    await Promise.all(
      wave.map(
        ({ socket }) =>
          new Promise<void>((resolve) => {
            socket.once('connect', resolve).once('close', resolve)
          }),
      ),
    )
  }
  await Promise.all(clients.map((client) => client.done))
  const writtenAfterMs = performance.now() - startedAt
  // Hold every connection open for --hold seconds (what the hub does with them meanwhile is
  // what is measured), or until the hub has reset them all.
  const holdUntil = performance.now() + params.holdMs
  while (performance.now() < holdUntil && clients.some(({ socket }) => !socket.destroyed)) {
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const results = clients.map((client) => client.result())
  for (const { socket } of clients) socket.destroy()
  const statuses: Record<string, number> = {}
  for (const [status] of results) statuses[status] = (statuses[status] ?? 0) + 1
  return {
    statuses,
    answerMs: results.map((r) => r[1]).filter((ms) => ms >= 0),
    closedByHub: results.filter((r) => r[2] >= 0).length,
    closedMs: results.map((r) => r[2]).filter((ms) => ms >= 0),
    bytesWritten: results.reduce((sum, r) => sum + r[3], 0),
    writtenAfterMs,
    elapsedMs: performance.now() - startedAt,
  }
}

function readStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(
      readFileSync(`/proc/${pid}/status`, 'utf8'),
    )
    return match ? Number(match[1]) * 1024 : null
  } catch {
    return null
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '1000' },
      'body-bytes': { type: 'string', default: '1000000' },
      hold: { type: 'string', default: '15' },
      cli: { type: 'string' },
    },
  })
  const connections = Number(values.connections)
  const bodyBytes = Number(values['body-bytes'])
  const holdMs = Number(values.hold) * 1000
  if (![connections, bodyBytes, holdMs].every((n) => Number.isFinite(n) && n > 0)) {
    throw new Error('--connections, --body-bytes and --hold take positive numbers')
  }
  const hub = await createHubNode({
    name: 'hub',
    env: { SSEHUB_JWT_KEY: TEST_SECRET, SSEHUB_LOG_FORMAT: 'json', SSEHUB_LOG_LEVEL: 'info' },
    args: ['--store', 'memory'],
    cli: values.cli,
  })
  await hub.start()
  const pid = hub.pid as number
  const port = Number(new URL(hub.hubUrl).port)
  const token = await mintToken({ key: TEST_SECRET, publish: ['*'] })
  const publish = async (): Promise<number> => {
    const started = performance.now()
    const res = await fetch(hub.hubUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${token}`,
      },
      body: 'topic=https%3A%2F%2Fexample.com%2Flegit&data=hello',
      signal: AbortSignal.timeout(10_000),
    })
    await res.text()
    if (res.status !== 200) throw new Error(`publish answered ${res.status}`)
    return performance.now() - started
  }

  try {
    for (let i = 0; i < 20; i++) await publish()
    const before: number[] = []
    for (let i = 0; i < 50; i++) {
      before.push(await publish())
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    const rssBefore = readStatus(pid, 'VmRSS') ?? 0

    // An object, not a let: the publisher loop reads what the main flow sets later.
    const run: { phase: 'during' | 'after' | 'stop' } = { phase: 'during' }
    let maxRss = rssBefore
    const sampler = setInterval(() => {
      maxRss = Math.max(maxRss, readStatus(pid, 'VmRSS') ?? 0)
    }, 100)
    const latencies = { during: [] as number[], after: [] as number[] }
    let failed = 0
    const publisher = (async () => {
      while (run.phase !== 'stop') {
        const at = run.phase
        try {
          latencies[at].push(await publish())
        } catch {
          failed++
        }
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    })()

    const params: FloodParams = { port, connections, bodyBytes, holdMs }
    const flooder = spawn(
      process.execPath,
      ['--import', 'tsx', new URL(import.meta.url).pathname, '--flood', JSON.stringify(params)],
      { stdio: ['ignore', 'pipe', 'inherit'], timeout: holdMs + 120_000 },
    )
    let output = ''
    flooder.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk))
    const [code] = await once(flooder, 'exit')
    if (code !== 0) throw new Error(`the flooding process exited with ${code}: ${output}`)
    const flood = JSON.parse(output) as FloodReport
    run.phase = 'after'
    await new Promise((resolve) => setTimeout(resolve, 3000))
    run.phase = 'stop'
    await publisher
    clearInterval(sampler)
    const rssAfter = readStatus(pid, 'VmRSS') ?? 0
    const hwm = readStatus(pid, 'VmHWM') ?? 0

    const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`
    const lines = [
      `hub: ${values.cli ?? 'this checkout'}, pid ${pid}, memory store`,
      `flood: ${connections} connections without a token, ${mb(bodyBytes)} each (${mb(flood.bytesWritten)} written in ${(flood.writtenAfterMs / 1000).toFixed(1)} s), held up to ${holdMs / 1000} s`,
      `  answers: ${JSON.stringify(flood.statuses)}; time to answer: ${summary(flood.answerMs)}`,
      `  ended by the hub (FIN or reset): ${flood.closedByHub} of ${connections}; after ${summary(flood.closedMs)}`,
      `hub RSS: ${mb(rssBefore)} before, max ${mb(maxRss)} during (VmHWM ${mb(hwm)}), ${mb(rssAfter)} 3 s after`,
      `publishes with a token: before ${summary(before)}`,
      `                        during ${summary(latencies.during)}`,
      `                        after  ${summary(latencies.after)}; failed: ${failed}`,
      `verdict: RSS ${maxRss < 200 * MB ? 'under' : 'OVER'} 200 MB; publishes with a token ${failed === 0 ? 'all answered 200' : `${failed} FAILED`}`,
    ]
    process.stdout.write(`${lines.join('\n')}\n`)
    if (maxRss >= 200 * MB || failed > 0) process.exitCode = 1
  } finally {
    await hub.stop('SIGTERM')
  }
}

const floodAt = process.argv.indexOf('--flood')
if (floodAt === -1) {
  await main()
} else {
  const report = await runFlood(JSON.parse(process.argv[floodAt + 1] as string) as FloodParams)
  process.stdout.write(`${JSON.stringify(report)}\n`)
}

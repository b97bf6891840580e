// A load-generator worker process, forked by generator.ts: it either holds SSE subscriber
// connections (raw sockets, scanned by sse-scan.ts) or publishes updates over keep-alive
// connections (token streams, one topic per connection: stream-publisher.ts), and reports to the
// parent over IPC. Not meant to be run by hand.

import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { HttpConnection } from './http-client.ts'
import type {
  CollectReport,
  PublishCommand,
  PublishedReport,
  SubscribeCommand,
  WorkerCommand,
  WorkerReport,
} from './protocol.ts'
import { createStreamScanner, makePayload, type StreamScanner } from './sse-scan.ts'
import { closeStreams, runStreams } from './stream-publisher.ts'

const send = (report: WorkerReport): void => {
  process.send?.(report)
}
const nowNs = (): number => Number(process.hrtime.bigint())
const cpuMs = (): number => {
  const usage = process.cpuUsage()
  return (usage.user + usage.system) / 1000
}

interface Connection {
  socket: Socket | null
  scanner: StreamScanner | null
  /** One bit per sequence number received, allocated on the first payload. */
  bits: Uint8Array | null
  unique: number
  open: boolean
}

// Subscriber state, for the one subscribe command a worker serves at a time.
let connections: Connection[] = []
let seqSpace = 0
let connected = 0
let failed = 0
let dropped = 0
let received = 0
let unique = 0
let duplicates = 0
let outOfRange = 0
let samples = new Float64Array(0)
let sampleCount = 0
let samplesDropped = 0
let firstReceiveNs = 0
let lastReceiveNs = 0
let closing = false
// One clock reading per socket read: every event in it arrived at the same moment.
let readNs = 0
const READ_BUFFER = Buffer.allocUnsafe(256 * 1024)
let ticker: NodeJS.Timeout | null = null

function onPayload(connection: Connection, seq: number, sentNs: number): void {
  received++
  if (firstReceiveNs === 0) firstReceiveNs = readNs
  lastReceiveNs = readNs
  if (sampleCount < samples.length) samples[sampleCount++] = (readNs - sentNs) / 1000
  else samplesDropped++
  if (seq >= seqSpace) {
    outOfRange++
    return
  }
  connection.bits ??= new Uint8Array((seqSpace + 7) >> 3)
  const byte = seq >> 3
  const bit = 1 << (seq & 7)
  const bits = connection.bits
  if (((bits[byte] as number) & bit) !== 0) {
    duplicates++
    return
  }
  bits[byte] = (bits[byte] as number) | bit
  connection.unique++
  unique++
}

function subscribe(command: SubscribeCommand): void {
  closing = false
  connections = []
  seqSpace = command.seqSpace
  samples = new Float64Array(command.maxSamples)
  resetCounters()
  connected = 0
  failed = 0
  dropped = 0
  const failures: Record<string, number> = {}
  const fail = (why: string): void => {
    failed++
    failures[why] = (failures[why] ?? 0) + 1
  }
  let headerLines = ''
  for (const [name, value] of Object.entries(command.headers))
    headerLines += `${name}: ${value}\r\n`
  const hostHeader = `${command.host}:${command.port}`
  let next = 0
  let inFlight = 0
  let firstStartNs = 0
  let lastConnectedNs = 0
  let reported = false

  const settle = (): void => {
    inFlight--
    startMore()
    if (!reported && connected + failed === command.paths.length) {
      reported = true
      send({ type: 'subscribed', connected, failed, failures, firstStartNs, lastConnectedNs })
    }
  }

  const open = (index: number): void => {
    const path = command.paths[index] as string
    const connection: Connection = {
      socket: null,
      scanner: null,
      bits: null,
      unique: 0,
      open: false,
    }
    connections.push(connection)
    let settled = false
    const socket = connect({
      host: command.host,
      port: command.port,
      noDelay: true,
      // Reads land in one shared buffer and skip the Readable stream machinery: reads are what
      // the generator spends its time on (one per delivery when the server keeps up), and this
      // took about a tenth off its CPU; most of the rest is the kernel's. The scanner copies
      // whatever it keeps.
      onread: {
        buffer: READ_BUFFER,
        callback: (bytes) => {
          readNs = nowNs()
          connection.scanner?.feed(READ_BUFFER.subarray(0, bytes))
          return true
        },
      },
    })
    connection.socket = socket
    socket.setTimeout(command.connectTimeoutMs)
    socket.on('timeout', () => {
      if (settled) return
      settled = true
      fail('timeout')
      socket.destroy()
      settle()
    })
    connection.scanner = createStreamScanner(
      (status) => {
        if (settled) return
        settled = true
        socket.setTimeout(0)
        if (status === 200) {
          connection.open = true
          connected++
          lastConnectedNs = nowNs()
        } else {
          fail(`status ${status}`)
          socket.destroy()
        }
        settle()
      },
      (seq, sentNs) => onPayload(connection, seq, sentNs),
    )
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (settled) return
      settled = true
      fail(error.code ?? error.message)
      settle()
    })
    socket.on('close', () => {
      if (!settled) {
        settled = true
        fail('closed before headers')
        settle()
      } else if (connection.open && !closing) {
        dropped++
      }
      connection.open = false
    })
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nAccept: text/event-stream\r\n${headerLines}\r\n`,
    )
  }

  const startMore = (): void => {
    while (inFlight < command.concurrency && next < command.paths.length) {
      inFlight++
      open(next++)
    }
  }

  firstStartNs = nowNs()
  if (command.paths.length === 0) {
    send({ type: 'subscribed', connected: 0, failed: 0, failures, firstStartNs, lastConnectedNs })
    return
  }
  startMore()
  ticker ??= setInterval(() => {
    send({ type: 'tick', connected, failed, received, unique, dropped })
  }, 100)
}

function resetCounters(): void {
  received = 0
  unique = 0
  duplicates = 0
  outOfRange = 0
  sampleCount = 0
  samplesDropped = 0
  firstReceiveNs = 0
  lastReceiveNs = 0
  for (const connection of connections) {
    connection.bits = null
    connection.unique = 0
  }
}

function collect(): CollectReport {
  const perConnection = new Uint32Array(connections.length)
  let foreign = outOfRange
  connections.forEach((connection, i) => {
    perConnection[i] = connection.unique
    foreign += connection.scanner?.foreign ?? 0
  })
  return {
    type: 'collected',
    received,
    unique,
    duplicates,
    foreign,
    dropped,
    uniquePerConnection: perConnection,
    samples: samples.slice(0, sampleCount),
    samplesDropped,
    firstReceiveNs,
    lastReceiveNs,
    cpuMs: cpuMs(),
  }
}

function closeSubscribers(): void {
  closing = true
  for (const connection of connections) connection.socket?.destroy()
  connections = []
  if (ticker !== null) clearInterval(ticker)
  ticker = null
}

async function publish(command: PublishCommand): Promise<PublishedReport> {
  const fill = (text: string, topic: string, payload: string, seq: number): string =>
    text.replaceAll('{topic}', topic).replaceAll('{payload}', payload).replaceAll('{seq}', `${seq}`)
  let headerLines = `Host: ${command.host}:${command.port}\r\n`
  for (const [name, value] of Object.entries(command.template.headers)) {
    headerLines += `${name}: ${value}\r\n`
  }
  const capture = new Set(command.captureSeqs)
  const captured: Record<string, string> = {}
  const failures: Record<string, number> = {}
  const latencies: number[] = []
  const startNs = nowNs()
  const deadlineNs = startNs + command.durationMs * 1e6
  const windowStartNs = startNs + command.warmupMs * 1e6
  let next = 0
  let sent = 0
  let acknowledged = 0
  let acknowledgedInWindow = 0
  let firstSendNs = 0
  let lastAckNs = 0

  const run = async (connection: HttpConnection): Promise<void> => {
    while (next < command.count) {
      const index = next++
      if (command.rate !== null) {
        const dueNs = startNs + (index * 1e9) / command.rate
        const waitMs = (dueNs - nowNs()) / 1e6
        if (waitMs > 0) await sleep(waitMs)
      }
      if (nowNs() >= deadlineNs) return
      const seq = command.seqStart + index * command.seqStride
      const topic = command.topics[seq % command.topics.length] as string
      const sendNs = nowNs()
      const body = fill(
        command.template.body,
        topic,
        makePayload(seq, sendNs, command.payloadBytes),
        seq,
      )
      const path = fill(command.template.path, topic, '', seq)
      const request = Buffer.from(
        `POST ${path} HTTP/1.1\r\n${headerLines}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        'latin1',
      )
      if (firstSendNs === 0) firstSendNs = sendNs
      sent++
      const result = await connection.send(request)
      const ackNs = nowNs()
      if (result.status >= 200 && result.status < 300) {
        acknowledged++
        if (ackNs >= windowStartNs) acknowledgedInWindow++
        latencies.push((ackNs - sendNs) / 1000)
        lastAckNs = ackNs
        if (capture.has(seq)) captured[seq] = result.body
      } else {
        failures[result.status] = (failures[result.status] ?? 0) + 1
      }
    }
  }

  const pool = Array.from(
    { length: command.connections },
    () => new HttpConnection(command.host, command.port),
  )
  await Promise.all(pool.map(run))
  const endNs = nowNs()
  for (const connection of pool) connection.close()
  return {
    type: 'published',
    sent,
    acknowledged,
    acknowledgedInWindow,
    windowMs: Math.max(0, (endNs - windowStartNs) / 1e6),
    failures,
    ackLatencies: Float64Array.from(latencies),
    firstSendNs,
    lastAckNs,
    captured,
    cpuMs: cpuMs(),
  }
}

process.on('message', (command: WorkerCommand) => {
  try {
    switch (command.type) {
      case 'subscribe':
        subscribe(command)
        break
      case 'publish':
        publish(command).then(send, (error: unknown) =>
          send({ type: 'error', message: String(error) }),
        )
        break
      case 'stream':
        runStreams(command).then(send, (error: unknown) =>
          send({ type: 'error', message: String(error) }),
        )
        break
      case 'close-streams':
        closeStreams()
        send({ type: 'streams-closed' })
        break
      case 'collect':
        send(collect())
        break
      case 'reset':
        resetCounters()
        send({ type: 'reset-done' })
        break
      case 'close-subscribers':
        closeSubscribers()
        send({ type: 'closed' })
        break
      case 'exit':
        closeSubscribers()
        closeStreams()
        process.disconnect?.()
        break
    }
  } catch (error) {
    send({ type: 'error', message: String(error) })
  }
})
// If the parent dies, so does this worker: a bench never leaves load behind.
process.on('disconnect', () => process.exit(0))

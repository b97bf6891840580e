// Token streams, the publisher worker's side: one keep-alive connection per topic, each sending
// only to its own topic with one request in flight, either on a schedule of its own (update k of
// stream g is due at start + (g / streams + k) / rate: the streams are staggered evenly over one
// period, so the sum is smooth) or back to back. A send that comes due while the previous
// request is still unanswered goes out as soon as the answer arrives, and how late it was is
// recorded: a server that cannot keep up shows as fewer updates sent and acknowledged in the
// time, not as updates skipped. The connections stay open between commands (warm-up, paced,
// back to back), so the measured phases open none.

import { setTimeout as sleep } from 'node:timers/promises'
import { createRandom } from '../soak/random.ts'
import { HttpConnection } from './http-client.ts'
import type { StreamCommand, StreamedReport } from './protocol.ts'
import { makePayload } from './sse-scan.ts'

const nowNs = (): number => Number(process.hrtime.bigint())

let pool: HttpConnection[] = []
let poolKey = ''

/** Closes the streams' connections (between peers, and when the worker exits). */
export function closeStreams(): void {
  for (const connection of pool) connection.close()
  pool = []
  poolKey = ''
}

/** Runs `command`'s streams to their count or deadline; resolves with what they measured. */
export async function runStreams(command: StreamCommand): Promise<StreamedReport> {
  const key = `${command.host}:${command.port}:${command.topics.length}`
  if (key !== poolKey) {
    closeStreams()
    pool = command.topics.map(() => new HttpConnection(command.host, command.port))
    poolKey = key
  }
  let headerLines = `Host: ${command.host}:${command.port}\r\n`
  for (const [name, value] of Object.entries(command.template.headers)) {
    headerLines += `${name}: ${value}\r\n`
  }
  const acknowledgedPerStream = new Uint32Array(command.topics.length)
  const failures: Record<string, number> = {}
  const paced = command.rate !== null
  const lateness = new Float64Array(paced ? command.topics.length * command.count : 0)
  let lateCount = 0
  let sent = 0
  let acknowledged = 0
  let payloadBytes = 0
  let firstSendNs = 0
  let lastAckNs = 0
  const startNs = nowNs()
  const deadlineNs = startNs + command.durationMs * 1e6
  const periodNs = paced ? 1e9 / (command.rate as number) : 0

  const run = async (connection: HttpConnection, s: number): Promise<void> => {
    const stream = command.firstStream + s
    const topic = command.topics[s] as string
    const random = createRandom((command.seed * 1_000_003 + stream * 7919 + command.seqStart) >>> 0)
    const path = fill(command.template.path, topic, '', 0)
    const offsetNs = (stream / command.totalStreams) * periodNs
    for (let k = 0; k < command.count; k++) {
      const dueNs = startNs + offsetNs + k * periodNs
      if (paced) {
        const waitMs = (dueNs - nowNs()) / 1e6
        if (waitMs >= 0.5) await sleep(Math.round(waitMs))
      }
      const sendNs = nowNs()
      if (sendNs >= deadlineNs) return
      if (paced) lateness[lateCount++] = Math.max(0, sendNs - dueNs) / 1000
      const size = random.int(command.payloadMin, command.payloadMax)
      const seq = command.seqStart + k
      const body = fill(command.template.body, topic, makePayload(seq, sendNs, size), seq)
      const request = Buffer.from(
        `POST ${path} HTTP/1.1\r\n${headerLines}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        'latin1',
      )
      if (firstSendNs === 0) firstSendNs = sendNs
      sent++
      const result = await connection.send(request)
      if (result.status >= 200 && result.status < 300) {
        acknowledged++
        acknowledgedPerStream[s] = (acknowledgedPerStream[s] as number) + 1
        payloadBytes += size
        lastAckNs = nowNs()
      } else {
        failures[result.status] = (failures[result.status] ?? 0) + 1
      }
    }
  }

  await Promise.all(pool.map(run))
  const usage = process.cpuUsage()
  return {
    type: 'streamed',
    sent,
    acknowledged,
    acknowledgedPerStream,
    failures,
    payloadBytes,
    lateness: lateness.slice(0, lateCount),
    startNs,
    firstSendNs,
    lastAckNs,
    cpuMs: (usage.user + usage.system) / 1000,
  }
}

function fill(text: string, topic: string, payload: string, seq: number): string {
  return text
    .replaceAll('{topic}', topic)
    .replaceAll('{payload}', payload)
    .replaceAll('{seq}', `${seq}`)
}

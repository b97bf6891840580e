// Instructions per publish and its delivery to one subscriber, counted by valgrind (callgrind):
// the token-streaming shape (bench/token-streaming.bench.ts) made deterministic (issue #15). The
// hub runs under callgrind as in scripts/publish-instructions.ts (see scripts/callgrind-hub.ts);
// this process opens TOPICS (64) subscribers, each on its own topic, on raw loopback sockets, then
// publishes to the topics round-robin on 64 keep-alive connections (one request in flight each,
// PAYLOAD bytes of `data`, 115 by default: the middle of the bench's 30–200). WARM_UP (50,000)
// publishes go uncounted, enough to fill the hub's 8 MiB cache of encoded updates as a long run
// does; then COUNTED (8,000) are counted, and every subscriber must have received every update
// published to its topic exactly once.
//
//   npx tsc -p tsconfig.build.json && node --import tsx scripts/delivery-instructions.ts [memory|sqlite] [runs]
//   SSEHUB_BENCH_ROOT=/path/to/other/checkout …   (counts that checkout's dist/)

import { Agent } from 'node:http'
import type { Socket } from 'node:net'
import { mintToken } from '../src/hub/mint-token.ts'
import { countHubInstructions, post, SECRET, subscribe } from './callgrind-hub.ts'

const CONNECTIONS = 64
const TOPICS = Number(process.env['TOPICS'] ?? 64)
const PAYLOAD = `P${'0'.repeat(Number(process.env['PAYLOAD'] ?? 115) - 1)}`
const WARM_UP = Number(process.env['WARM_UP'] ?? 50_000)
const COUNTED = Number(process.env['COUNTED'] ?? 8000)

const store = process.argv[2] === 'sqlite' ? 'sqlite' : 'memory'
const runs = Number(process.argv[3] ?? 1)

const topicOf = (i: number): string => `https://example.com/stream/${i}`

async function countInstructions(): Promise<number> {
  const token = await mintToken({ key: SECRET, publish: ['*'], expiresIn: '24h' })
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  const sockets: Socket[] = []
  // Updates received per subscriber: `data:` lines, counted across chunk boundaries.
  const received = new Array<number>(TOPICS).fill(0)
  let next = 0
  let refused = 0
  const openSubscribers = async (port: number): Promise<void> => {
    for (let i = 0; i < TOPICS; i++) {
      let tail = ''
      const onData = (chunk: Buffer): void => {
        const text = tail + chunk.toString('latin1')
        for (let at = text.indexOf('\ndata:'); at !== -1; at = text.indexOf('\ndata:', at + 1))
          received[i] = (received[i] as number) + 1
        tail = text.slice(-5)
      }
      const path = `/.well-known/mercure?topic=${encodeURIComponent(topicOf(i))}`
      sockets.push(await subscribe(port, path, onData))
    }
  }
  const publish = async (port: number, n: number): Promise<void> => {
    const end = next + n
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < end) {
          const seq = next++
          const body = `topic=${encodeURIComponent(topicOf(seq % TOPICS))}&data=${PAYLOAD}`
          if ((await post(agent, port, token, body)) !== 200) refused++
        }
      }),
    )
  }
  const total = await countHubInstructions(
    store,
    {
      warmUp: async (port) => {
        await openSubscribers(port)
        await publish(port, WARM_UP)
      },
      counted: async (port) => {
        await publish(port, COUNTED)
        // An update is acknowledged before its delivery is flushed: the last ones land after.
        const all = WARM_UP + COUNTED
        for (let waited = 0; waited < 60_000; waited += 50) {
          if (received.reduce((a, b) => a + b, 0) >= all) break
          await new Promise((r) => setTimeout(r, 50))
        }
      },
      close: () => {
        agent.destroy()
        for (const socket of sockets) socket.destroy()
      },
    },
    // No heartbeat in the counted window: its cost grows with valgrind's slow wall time.
    { SSEHUB_HEARTBEAT: '1h' },
  )
  if (refused > 0) throw new Error(`${refused} publishes were not acknowledged`)
  const expected = (i: number): number =>
    Math.floor((WARM_UP + COUNTED) / TOPICS) + (i < (WARM_UP + COUNTED) % TOPICS ? 1 : 0)
  const wrong = received.filter((n, i) => n !== expected(i)).length
  if (wrong > 0) throw new Error(`${wrong} subscribers did not receive each update once`)
  return total
}

for (let run = 1; run <= runs; run++) {
  const total = await countInstructions()
  console.log(
    `${store} run ${run}: ${Math.round(total / COUNTED)} instructions per publish and delivery (${total} for ${COUNTED} after ${WARM_UP} uncounted, ${TOPICS} topics with one subscriber each)`,
  )
}

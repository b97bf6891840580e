// Instructions per publish of the hub process, counted by valgrind (callgrind): deterministic
// where CPU time on a shared 2-core machine is not (issue #15). The hub runs as users run it
// (`node dist/server/cli.js`, as bench/peers/ssehub.ts starts it) under callgrind; this process
// publishes N updates to it on 64 keep-alive connections (one request in flight each, 100-byte
// payloads on 8 topics, the durable-publish bench's shape), then stops it with SIGTERM and reads
// the instructions callgrind counted. Counting is on only while 8,000 publishes (COUNTED) run,
// after 4,000 uncounted (WARM_UP): start-up, warm-up and shutdown are left out. Node runs with
// --single-threaded, so the count does not depend on when background threads got a core.
//
//   npx tsc -p tsconfig.build.json && node --import tsx scripts/publish-instructions.ts [memory|sqlite] [runs]
//   SSEHUB_BENCH_ROOT=/path/to/other/checkout …   (counts that checkout's dist/)
//
// Under callgrind the hub runs about 50 times slower: a run takes two to five minutes. Runs of one
// build spread by about ±7 % (a major GC falls in the counted window or not).

import { Agent } from 'node:http'
import { mintToken } from '../src/hub/mint-token.ts'
import { countHubInstructions, post, SECRET } from './callgrind-hub.ts'

const CONNECTIONS = 64
const PAYLOAD = `P${'0'.repeat(99)}`
const WARM_UP = Number(process.env['WARM_UP'] ?? 4000)
const COUNTED = Number(process.env['COUNTED'] ?? 8000)

const store = process.argv[2] === 'sqlite' ? 'sqlite' : 'memory'
const runs = Number(process.argv[3] ?? 1)

/** Publishes on `CONNECTIONS` keep-alive connections, one request in flight each, to 8 topics. */
async function countInstructions(count: number): Promise<number> {
  const token = await mintToken({ key: SECRET, publish: ['*'], expiresIn: '24h' })
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  let next = 0
  let refused = 0
  let resent = 0
  const publish = async (port: number, n: number): Promise<void> => {
    const end = next + n
    const publishOne = async (seq: number): Promise<void> => {
      const topic = encodeURIComponent(`https://example.com/t/${seq % 8}`)
      const body = `topic=${topic}&data=${PAYLOAD}`
      // A keep-alive socket the hub closed as the request went out (its timeouts run slow under
      // valgrind) fails with ECONNRESET: sent again, once.
      const status = await post(agent, port, token, body).catch(() => {
        resent++
        return post(agent, port, token, body)
      })
      if (status !== 200) refused++
    }
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (next < end) await publishOne(next++)
      }),
    )
  }
  // The JIT warms up, the connections open and the history starts filling uncounted; then
  // exactly `count` publishes are counted.
  const total = await countHubInstructions(store, {
    warmUp: (port) => publish(port, WARM_UP),
    counted: (port) => publish(port, count),
    close: () => agent.destroy(),
  })
  if (refused > 0) throw new Error(`${refused} publishes were not acknowledged`)
  if (resent > 0) console.error(`(${resent} publishes sent again after a reset connection)`)
  return total
}

for (let run = 1; run <= runs; run++) {
  const total = await countInstructions(COUNTED)
  console.log(
    `${store} run ${run}: ${Math.round(total / COUNTED)} instructions per publish (${total} for ${COUNTED} after ${WARM_UP} uncounted)`,
  )
}

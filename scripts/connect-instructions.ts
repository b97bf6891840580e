// Instructions per connect (and close) of the hub process, counted by valgrind (callgrind):
// deterministic where CPU time on a shared 2-core machine is not (issue #15, item 2). The hub runs
// as users run it (`node dist/server/cli.js`, as bench/peers/ssehub.ts starts it), or the raw Node
// peer (`raw`, bench/peers/raw-node.ts), under callgrind; this process opens subscriptions on raw
// loopback sockets, 64 at a time, each to its own topic (the idle bench's shape), waits for each
// response head, then closes them all. Counting is on only while COUNTED subscriptions (2,000)
// open and close, after WARM_UP (3,000) opened and closed uncounted: start-up, the JIT's warm-up
// and shutdown are left out. Node runs with --single-threaded (no background compilation or GC
// threads, which run when the scheduler lets them) and a fixed GC schedule and hash seed.
//
//   npx tsc -p tsconfig.build.json && node --import tsx scripts/connect-instructions.ts [memory|raw] [runs]
//   SSEHUB_BENCH_ROOT=/path/to/other/checkout …   (counts that checkout's dist/)
//
// Under callgrind the hub runs about 50 times slower: one run takes a few minutes.

import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { countInstructions, HOST, HUB_ENV, ROOT, subscribe } from './callgrind-hub.ts'

const CONCURRENCY = 64
const HERE = fileURLToPath(new URL('../', import.meta.url))
const WARM_UP = Number(process.env['WARM_UP'] ?? 3000)
const COUNTED = Number(process.env['COUNTED'] ?? 2000)

const target = process.argv[2] === 'raw' ? 'raw' : 'memory'
const runs = Number(process.argv[3] ?? 1)

/** The path subscribing to topic `i` on the target. */
function subscribePath(i: number, prefix: string): string {
  return target === 'raw'
    ? `/sub?topic=${prefix}${i}`
    : `/.well-known/mercure?topic=${encodeURIComponent(`https://example.com/t/${prefix}${i}`)}`
}

/** Opens `count` subscriptions, `CONCURRENCY` at a time, then closes them all. */
async function openAndClose(port: number, count: number, prefix: string): Promise<void> {
  const sockets: Socket[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < count) sockets.push(await subscribe(port, subscribePath(next++, prefix)))
    }),
  )
  await Promise.all(
    sockets.map(
      (socket) =>
        new Promise<void>((done) => {
          socket.once('close', () => done())
          socket.end()
        }),
    ),
  )
}

/** Whether the target accepts a connection on `port`. */
function acceptsConnections(port: number): Promise<boolean> {
  return new Promise<boolean>((done) => {
    const socket = connect({ host: HOST, port }, () => {
      socket.destroy()
      done(true)
    })
    socket.on('error', () => done(false))
  })
}

/** Runs the target under callgrind; resolves with the instructions `count` connects counted. */
function countConnectInstructions(count: number): Promise<number> {
  return countInstructions(
    {
      prefix: 'connect-instructions-',
      nodeArgs: (port) => [
        // No background threads (concurrent GC, compilation); GC sized by allocation, not by
        // time; hash tables laid out alike in every run.
        '--single-threaded',
        '--predictable-gc-schedule',
        '--hash-seed=42',
        '--random-seed=42',
        ...(target === 'raw'
          ? ['--import', 'tsx', join(HERE, 'bench/peers/raw-node.ts'), String(port)]
          : [join(ROOT, 'dist/server/cli.js')]),
      ],
      cwd: target === 'raw' ? HERE : ROOT,
      env: () => ({
        SSEHUB_STORE: 'memory',
        ...HUB_ENV,
        // No work that grows with wall time (valgrind's is fifty-fold): a heartbeat an hour, and
        // deadlines of ten minutes so no request times out (they arm the timers the defaults do).
        SSEHUB_HEARTBEAT: '1h',
        SSEHUB_REQUEST_TIMEOUT: '10m',
        SSEHUB_HEADERS_TIMEOUT: '10m',
      }),
      isUp: acceptsConnections,
      name: 'the server',
    },
    {
      warmUp: async (port) => {
        await openAndClose(port, WARM_UP, 'w')
        // The closes of the warm-up are seen by the server before counting starts.
        await new Promise((r) => setTimeout(r, 5000))
      },
      counted: async (port) => {
        await openAndClose(port, count, 't')
        await new Promise((r) => setTimeout(r, 5000))
      },
      close: () => {},
    },
  )
}

for (let run = 1; run <= runs; run++) {
  const total = await countConnectInstructions(COUNTED)
  console.log(
    `${target} run ${run}: ${Math.round(total / COUNTED)} instructions per connect and close (${total} for ${COUNTED} after ${WARM_UP} uncounted)`,
  )
}

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

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const HOST = '127.0.0.1'
const SECRET = 'ssehub-bench-secret-0123456789-abcdefghijkl'
const CONCURRENCY = 64
const ROOT = resolve(
  process.env['SSEHUB_BENCH_ROOT'] ?? fileURLToPath(new URL('../', import.meta.url)),
)
const HERE = fileURLToPath(new URL('../', import.meta.url))
const WARM_UP = Number(process.env['WARM_UP'] ?? 3000)
const COUNTED = Number(process.env['COUNTED'] ?? 2000)

const target = process.argv[2] === 'raw' ? 'raw' : 'memory'
const runs = Number(process.argv[3] ?? 1)

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, HOST, () => {
      const { port } = server.address() as { port: number }
      server.close(() => done(port))
    })
  })
}

/** The path subscribing to topic `i` on the target. */
function subscribePath(i: number, prefix: string): string {
  return target === 'raw'
    ? `/sub?topic=${prefix}${i}`
    : `/.well-known/mercure?topic=${encodeURIComponent(`https://example.com/t/${prefix}${i}`)}`
}

/** Opens one subscription; resolves with its socket once the response head says 200. */
function subscribe(port: number, path: string): Promise<Socket> {
  return new Promise((done, fail) => {
    const socket = connect({ host: HOST, port, noDelay: true })
    let head = ''
    const onData = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n')) return
      socket.off('data', onData)
      // Whatever comes later (heartbeats) is read and dropped.
      socket.resume()
      if (head.startsWith('HTTP/1.1 200')) done(socket)
      else fail(new Error(`subscription refused: ${head.slice(0, 80)}`))
    }
    socket.on('data', onData)
    socket.on('error', fail)
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nAccept: text/event-stream\r\n\r\n`,
    )
  })
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

async function waitForPort(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((done) => {
      const socket = connect({ host: HOST, port }, () => {
        socket.destroy()
        done(true)
      })
      socket.on('error', () => done(false))
    })
    if (up) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error('the server did not start under valgrind within its deadline')
}

/** Turns callgrind's counting of process `pid` on or off. */
function control(pid: number, state: 'on' | 'off'): void {
  // vgdb finds the process by a file named after its LOGNAME and HOST: the hub's HOST is its
  // listening address, so callgrind_control must see the same one.
  const done = spawnSync('callgrind_control', ['-i', state, String(pid)], {
    encoding: 'utf8',
    env: { ...process.env, HOST },
  })
  if (done.status !== 0) throw new Error(`callgrind_control -i ${state}: ${done.stderr}`)
}

/** Runs the target under callgrind; resolves with the instructions `count` connects counted. */
async function countInstructions(count: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'connect-instructions-'))
  const out = join(dir, 'callgrind.out')
  const port = await freePort()
  const program =
    target === 'raw'
      ? ['--import', 'tsx', join(HERE, 'bench/peers/raw-node.ts'), String(port)]
      : [join(ROOT, 'dist/server/cli.js')]
  const child = spawn(
    'valgrind',
    [
      '--tool=callgrind',
      // V8 writes and rewrites machine code: callgrind must notice code that changes.
      '--smc-check=all-non-file',
      // Counting starts after the warm-up and stops before the shutdown (callgrind_control).
      '--instr-atstart=no',
      `--callgrind-out-file=${out}`,
      process.execPath,
      // No background threads (concurrent GC, compilation); GC sized by allocation, not by time;
      // hash tables laid out alike in every run.
      '--single-threaded',
      '--predictable-gc-schedule',
      '--hash-seed=42',
      '--random-seed=42',
      ...program,
    ],
    {
      cwd: target === 'raw' ? HERE : ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST,
        SSEHUB_STORE: 'memory',
        SSEHUB_JWT_KEY: SECRET,
        SSEHUB_ANONYMOUS: 'true',
        SSEHUB_MAX_LIFETIME: 'off',
        SSEHUB_MAX_PER_ADDRESS: 'off',
        SSEHUB_LOG_LEVEL: 'warn',
        SSEHUB_LOG_FORMAT: 'json',
        // No work that grows with wall time (valgrind's is fifty-fold): a heartbeat an hour, and
        // deadlines of ten minutes so no request times out (they arm the timers the defaults do).
        SSEHUB_HEARTBEAT: '1h',
        SSEHUB_REQUEST_TIMEOUT: '10m',
        SSEHUB_HEADERS_TIMEOUT: '10m',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  try {
    await waitForPort(port, Date.now() + 300_000)
    await openAndClose(port, WARM_UP, 'w')
    // The closes of the warm-up are seen by the server before counting starts.
    await new Promise((r) => setTimeout(r, 5000))
    control(child.pid as number, 'on')
    await openAndClose(port, count, 't')
    await new Promise((r) => setTimeout(r, 5000))
    control(child.pid as number, 'off')
    child.kill('SIGTERM')
    await Promise.race([exited, new Promise((r) => setTimeout(r, 120_000))])
    const text = readFileSync(out, 'utf8')
    const totals = /^totals: (\d+)/m.exec(text)
    if (totals === null) throw new Error(`no totals in ${out}`)
    return Number(totals[1])
  } catch (error) {
    child.kill('SIGKILL')
    throw new Error(`${error}\n${stderr}`)
  } finally {
    await exited
    rmSync(dir, { recursive: true, force: true })
  }
}

for (let run = 1; run <= runs; run++) {
  const total = await countInstructions(COUNTED)
  console.log(
    `${target} run ${run}: ${Math.round(total / COUNTED)} instructions per connect and close (${total} for ${COUNTED} after ${WARM_UP} uncounted)`,
  )
}

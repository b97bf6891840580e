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

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request as httpRequest } from 'node:http'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { mintToken } from '../src/hub/mint-token.ts'

const HOST = '127.0.0.1'
const SECRET = 'ssehub-bench-secret-0123456789-abcdefghijkl'
const CONNECTIONS = 64
const PAYLOAD = `P${'0'.repeat(99)}`
const ROOT = resolve(
  process.env['SSEHUB_BENCH_ROOT'] ?? fileURLToPath(new URL('../', import.meta.url)),
)

const store = process.argv[2] === 'sqlite' ? 'sqlite' : 'memory'
const runs = Number(process.argv[3] ?? 1)

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, HOST, () => {
      const { port } = server.address() as { port: number }
      server.close(() => done(port))
    })
  })
}

function post(agent: Agent, port: number, token: string, body: string): Promise<number> {
  return new Promise((done, fail) => {
    const req = httpRequest(
      {
        host: HOST,
        port,
        method: 'POST',
        path: '/.well-known/mercure',
        agent,
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Bearer ${token}`,
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        res.resume()
        res.on('end', () => done(res.statusCode ?? 0))
      },
    )
    req.on('error', fail)
    req.end(body)
  })
}

async function waitForHub(port: number, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    const up = await new Promise<boolean>((done) => {
      const req = httpRequest({ host: HOST, port, path: '/healthz' }, (res) => {
        res.resume()
        done(res.statusCode === 200)
      })
      req.on('error', () => done(false))
      req.end()
    })
    if (up) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error('the hub did not start under valgrind within its deadline')
}

/** Runs the hub under callgrind for `count` publishes; resolves with the instructions counted. */
async function countInstructions(count: number): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'publish-instructions-'))
  const out = join(dir, 'callgrind.out')
  const port = await freePort()
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
      // No background threads (concurrent GC, compilation): they run when the scheduler lets
      // them, and their share of the count then varies by tens of per cent from run to run.
      '--single-threaded',
      join(ROOT, 'dist/server/cli.js'),
    ],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        HOST,
        SSEHUB_STORE: store === 'sqlite' ? `sqlite:${join(dir, 'hub.db')}` : 'memory',
        SSEHUB_JWT_KEY: SECRET,
        SSEHUB_ANONYMOUS: 'true',
        SSEHUB_MAX_LIFETIME: 'off',
        SSEHUB_MAX_PER_ADDRESS: 'off',
        SSEHUB_LOG_LEVEL: 'warn',
        SSEHUB_LOG_FORMAT: 'json',
        SSEHUB_HISTORY_SIZE: '100000',
        // Callgrind slows the hub fifty-fold (more on a busy machine): deadlines of ten minutes,
        // so no request times out. They arm the same timers as the defaults do.
        SSEHUB_BODY_TIMEOUT: '10m',
        SSEHUB_REQUEST_TIMEOUT: '10m',
        SSEHUB_HEADERS_TIMEOUT: '10m',
        SSEHUB_KEEP_ALIVE_TIMEOUT: '10m',
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
    await waitForHub(port, Date.now() + 300_000)
    const token = await mintToken({ key: SECRET, publish: ['*'], expiresIn: '24h' })
    const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
    let next = 0
    let refused = 0
    let resent = 0
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
    const publish = async (count: number): Promise<void> => {
      const end = next + count
      await Promise.all(
        Array.from({ length: CONNECTIONS }, async () => {
          while (next < end) await publishOne(next++)
        }),
      )
    }
    // The JIT warms up, the connections open and the history starts filling uncounted; then
    // exactly `count` publishes are counted.
    await publish(WARM_UP)
    control(child.pid as number, 'on')
    await publish(count)
    control(child.pid as number, 'off')
    agent.destroy()
    if (refused > 0) throw new Error(`${refused} publishes were not acknowledged`)
    if (resent > 0) console.error(`(${resent} publishes sent again after a reset connection)`)
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

const WARM_UP = Number(process.env['WARM_UP'] ?? 4000)
const COUNTED = Number(process.env['COUNTED'] ?? 8000)

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
for (let run = 1; run <= runs; run++) {
  const total = await countInstructions(COUNTED)
  console.log(
    `${store} run ${run}: ${Math.round(total / COUNTED)} instructions per publish (${total} for ${COUNTED} after ${WARM_UP} uncounted)`,
  )
}

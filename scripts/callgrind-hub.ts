// What the callgrind drivers share (scripts/publish-instructions.ts, delivery-instructions.ts,
// connect-instructions.ts): the hub run as users run it (`node dist/server/cli.js`, as
// bench/peers/ssehub.ts starts it) under valgrind's callgrind, counting switched on with
// `callgrind_control` only while the driver's counted work runs (start-up, the JIT's warm-up and
// shutdown are left out), and keep-alive publishes over HTTP. Not a script of its own.

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { type Agent, request as httpRequest } from 'node:http'
import { connect, createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const HOST = '127.0.0.1'
export const SECRET = 'ssehub-bench-secret-0123456789-abcdefghijkl'
/** The checkout whose `dist/` is counted: this one, or `SSEHUB_BENCH_ROOT`. */
export const ROOT = resolve(
  process.env['SSEHUB_BENCH_ROOT'] ?? fileURLToPath(new URL('../', import.meta.url)),
)

/** The hub's settings every driver counts with: anonymous subscribers, no limits, quiet logs. */
export const HUB_ENV: Record<string, string> = {
  SSEHUB_JWT_KEY: SECRET,
  SSEHUB_ANONYMOUS: 'true',
  SSEHUB_MAX_LIFETIME: 'off',
  SSEHUB_MAX_PER_ADDRESS: 'off',
  SSEHUB_LOG_LEVEL: 'warn',
  SSEHUB_LOG_FORMAT: 'json',
}

export function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer().listen(0, HOST, () => {
      const { port } = server.address() as { port: number }
      server.close(() => done(port))
    })
  })
}

/** One publish of form `body`; resolves with the answer's status. */
export function post(agent: Agent, port: number, token: string, body: string): Promise<number> {
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

/**
 * Opens one subscription on a raw loopback socket; resolves with the socket once the response
 * head says 200. What comes later goes to `onData`, or is read and dropped.
 */
export function subscribe(
  port: number,
  path: string,
  onData?: (chunk: Buffer) => void,
): Promise<Socket> {
  return new Promise((done, fail) => {
    const socket = connect({ host: HOST, port, noDelay: true })
    let head = ''
    const onHead = (chunk: Buffer): void => {
      head += chunk.toString('latin1')
      if (!head.includes('\r\n')) return
      socket.off('data', onHead)
      if (onData === undefined) socket.resume()
      else socket.on('data', onData)
      if (head.startsWith('HTTP/1.1 200')) done(socket)
      else fail(new Error(`subscription refused: ${head.slice(0, 80)}`))
    }
    socket.on('data', onHead)
    socket.on('error', fail)
    socket.write(
      `GET ${path} HTTP/1.1\r\nHost: ${HOST}:${port}\r\nAccept: text/event-stream\r\n\r\n`,
    )
  })
}

/** Whether the hub answers `GET /healthz` on `port` with 200. */
function hubIsUp(port: number): Promise<boolean> {
  return new Promise<boolean>((done) => {
    const req = httpRequest({ host: HOST, port, path: '/healthz' }, (res) => {
      res.resume()
      done(res.statusCode === 200)
    })
    req.on('error', () => done(false))
    req.end()
  })
}

/** Polls `isUp` every 250 ms until it says yes; throws, naming `what`, after `deadline`. */
async function waitUntilUp(
  isUp: (port: number) => Promise<boolean>,
  port: number,
  deadline: number,
  what: string,
): Promise<void> {
  while (Date.now() < deadline) {
    if (await isUp(port)) return
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${what} did not start under valgrind within its deadline`)
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

/** What a driver does to the hub under callgrind. */
export interface CallgrindWork {
  /** Uncounted: connections, subscribers, the JIT's warm-up, filling the history. */
  warmUp(port: number): Promise<void>
  /** Counted. */
  counted(port: number): Promise<void>
  /** After counting, before the shutdown: closes the driver's connections. */
  close(): void
}

/** A server a driver runs under callgrind. */
export interface CallgrindServer {
  /** What the temporary directory's name starts with. */
  prefix: string
  /** Node's flags and program, given the server's port and the temporary directory. */
  nodeArgs(port: number, dir: string): string[]
  cwd: string
  /** The server's environment over `process.env`, `PORT` and `HOST`. */
  env(dir: string): Record<string, string>
  /** Whether the server accepts work on `port` yet. */
  isUp(port: number): Promise<boolean>
  /** Names the server in the error when it does not start. */
  name: string
}

/**
 * Runs `server` under callgrind around `work`; resolves with the instructions counted while
 * `work.counted` ran.
 */
export async function countInstructions(
  server: CallgrindServer,
  work: CallgrindWork,
): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), server.prefix))
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
      ...server.nodeArgs(port, dir),
    ],
    {
      cwd: server.cwd,
      env: { ...process.env, PORT: String(port), HOST, ...server.env(dir) },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  )
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const exited = new Promise<void>((done) => child.once('exit', () => done()))
  try {
    await waitUntilUp(server.isUp, port, Date.now() + 300_000, server.name)
    await work.warmUp(port)
    control(child.pid as number, 'on')
    await work.counted(port)
    control(child.pid as number, 'off')
    work.close()
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

/**
 * Runs the hub (memory or SQLite store) under callgrind around `work`; resolves with the
 * instructions counted while `work.counted` ran.
 */
export function countHubInstructions(
  store: 'memory' | 'sqlite',
  work: CallgrindWork,
  env: Record<string, string> = {},
): Promise<number> {
  return countInstructions(
    {
      prefix: 'hub-instructions-',
      nodeArgs: () => [
        // No background threads (concurrent GC, compilation): they run when the scheduler lets
        // them, and their share of the count then varies by tens of per cent from run to run.
        '--single-threaded',
        join(ROOT, 'dist/server/cli.js'),
      ],
      cwd: ROOT,
      env: (dir) => ({
        SSEHUB_STORE: store === 'sqlite' ? `sqlite:${join(dir, 'hub.db')}` : 'memory',
        ...HUB_ENV,
        SSEHUB_HISTORY_SIZE: '100000',
        // Callgrind slows the hub fifty-fold (more on a busy machine): deadlines of ten minutes,
        // so no request times out. They arm the same timers as the defaults do.
        SSEHUB_BODY_TIMEOUT: '10m',
        SSEHUB_REQUEST_TIMEOUT: '10m',
        SSEHUB_HEADERS_TIMEOUT: '10m',
        SSEHUB_KEEP_ALIVE_TIMEOUT: '10m',
        ...env,
      }),
      isUp: hubIsUp,
      name: 'the hub',
    },
    work,
  )
}

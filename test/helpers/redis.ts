import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const { REDIS_URL: redisUrl, REDIS_SERVER_PATH: redisServerPath, REQUIRE_REDIS } = process.env

/** The shared Redis the tests use (never stopped or flushed by them: keys carry a unique prefix). */
export const REDIS_URL = redisUrl ?? 'redis://127.0.0.1:6379'

/** Debian's Redis server, which fault tests start on a port of their own. */
export const REDIS_SERVER_PATH = redisServerPath ?? '/usr/bin/redis-server'

/** Whether Redis tests must run (CI): a missing Redis, redis-server or nginx fails them. */
export const REDIS_REQUIRED = REQUIRE_REDIS === '1'

/**
 * Why Redis tests cannot run here, or `null` when they can. With `REQUIRE_REDIS=1` (CI) a missing
 * Redis is an error, not a skip: a skipped test must never hide a failure.
 */
export async function redisSkipReason(options: { server?: boolean } = {}): Promise<string | null> {
  let reason: string | null = null
  const { hostname, port } = new URL(REDIS_URL)
  try {
    const reply = await redisCommand(['PING'], REDIS_URL, 1000)
    if (reply !== 'PONG') reason = `Redis at ${hostname}:${port} answered ${String(reply)} to PING`
  } catch (error) {
    reason = `no Redis answers at ${hostname}:${port} (${(error as Error).message}; apt-get install redis-server, or set REDIS_URL)`
  }
  if (reason === null && options.server && !existsSync(REDIS_SERVER_PATH)) {
    reason = `no redis-server at ${REDIS_SERVER_PATH} (apt-get install redis-server, or set REDIS_SERVER_PATH)`
  }
  if (reason === null) return null
  if (REDIS_REQUIRED) throw new Error(`REQUIRE_REDIS=1 but ${reason}`)
  process.stderr.write(`Redis tests skipped: ${reason}\n`)
  return reason
}

/** A key prefix no other test run uses: `ssehub-test:<name>:<pid>:<time>:<random>:`. */
export function uniquePrefix(name: string): string {
  return `ssehub-test:${name}:${process.pid}:${Date.now()}:${Math.random().toString(36).slice(2, 8)}:`
}

/** Deletes every key starting with `prefix` (the tests' own keys only). */
export async function deleteKeys(
  prefix: string,
  url = REDIS_URL,
  timeoutMs = 30_000,
): Promise<void> {
  // One script: SCAN over a shared Redis from a test is fine, and nothing else is touched.
  await redisCommand(
    [
      'EVAL',
      `local cursor = '0'
      repeat
        local page = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
        cursor = page[1]
        for _, key in ipairs(page[2]) do redis.call('UNLINK', key) end
      until cursor == '0'
      return 1`,
      '0',
      `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`,
    ],
    url,
    timeoutMs,
  )
}

/** A RESP reply: string, number, null, error, or an array of them. */
export type RespReply = string | number | null | Error | RespReply[]

/**
 * Sends one command on a fresh connection and resolves with the reply (a Redis error reply
 * resolves as an `Error`). Enough for test set-up and inspection, without the driver.
 */
export function redisCommand(
  args: readonly string[],
  url = REDIS_URL,
  timeoutMs = 5000,
): Promise<RespReply> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    let buffer = Buffer.alloc(0)
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no reply within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk])
      const parsed = parseReply(buffer, 0)
      if (parsed === undefined) return
      clearTimeout(timer)
      socket.destroy()
      resolve(parsed.value)
    })
    socket.connect(Number(port || 6379), hostname, () => {
      const parts = args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`)
      socket.write(`*${args.length}\r\n${parts.join('')}`)
    })
  })
}

function parseReply(buffer: Buffer, offset: number): { value: RespReply; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset)
  if (lineEnd === -1) return undefined
  const type = String.fromCharCode(buffer[offset] as number)
  const line = buffer.toString('utf8', offset + 1, lineEnd)
  const next = lineEnd + 2
  switch (type) {
    case '+':
      return { value: line, end: next }
    case '-':
      return { value: new Error(line), end: next }
    case ':':
      return { value: Number(line), end: next }
    case '$': {
      const length = Number(line)
      if (length < 0) return { value: null, end: next }
      if (buffer.length < next + length + 2) return undefined
      return { value: buffer.toString('utf8', next, next + length), end: next + length + 2 }
    }
    case '*': {
      const count = Number(line)
      if (count < 0) return { value: null, end: next }
      const items: RespReply[] = []
      let end = next
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, end)
        if (item === undefined) return undefined
        items.push(item.value)
        end = item.end
      }
      return { value: items, end }
    }
    default:
      throw new Error(`unexpected RESP type ${JSON.stringify(type)}`)
  }
}

/** A loopback port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  await once(server, 'close')
  return port
}

/** A Redis server of the test's own, with an append-only file so data survives a restart. */
export interface OwnRedis {
  readonly port: number
  readonly url: string
  /** Whether it runs now. */
  readonly running: boolean
  /** Stops it (SIGTERM to its pid, so it writes its append-only file) and waits for the exit. */
  stop(): Promise<void>
  /** Starts it again on the same port and directory, and waits until it answers PING. */
  start(): Promise<void>
  /** Stops it if running and removes its directory. */
  cleanup(): Promise<void>
}

/**
 * Starts `redis-server` on a free loopback port with its data in a temporary directory
 * (`--appendonly yes`, no RDB snapshots). Only ever stopped by its own pid.
 */
export async function startOwnRedis(): Promise<OwnRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-redis-'))
  const port = await freePort()
  let child: ChildProcess | undefined
  const start = async (): Promise<void> => {
    const process_ = spawn(
      REDIS_SERVER_PATH,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--dir',
        dir,
        '--logfile',
        join(dir, 'redis.log'),
      ],
      { stdio: 'ignore' },
    )
    child = process_
    const deadline = Date.now() + 10_000
    for (;;) {
      if (process_.exitCode !== null)
        throw new Error(`redis-server exited with ${process_.exitCode}`)
      try {
        if ((await redisCommand(['PING'], `redis://127.0.0.1:${port}`, 500)) === 'PONG') return
      } catch {}
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not start`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const stop = async (): Promise<void> => {
    const running = child
    child = undefined
    if (running === undefined || running.exitCode !== null || running.signalCode !== null) return
    const exited = once(running, 'exit')
    running.kill('SIGTERM')
    await exited
  }
  await start()
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined
    },
    stop,
    start,
    async cleanup() {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

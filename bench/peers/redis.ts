// The Redis the two-node peers share: the one the tests use (REDIS_URL, else 127.0.0.1:6379),
// never flushed: each run's keys carry a prefix of their own and are deleted afterwards. Speaks
// just enough RESP for PING and one EVAL, so the bench needs no Redis driver.

import { Socket } from 'node:net'

const { REDIS_URL: FROM_ENV } = process.env

/** The shared Redis's URL. */
export const REDIS_URL = FROM_ENV ?? 'redis://127.0.0.1:6379'

/** A key prefix no other run uses. */
export function uniquePrefix(name: string): string {
  return `ssehub-bench:${name}:${process.pid}:${Date.now()}:`
}

/** Sends one command; resolves with the first reply line (`+PONG`, `:1`, `-ERR …`). */
export function redisCommand(
  args: readonly string[],
  url = REDIS_URL,
  timeoutMs = 5000,
): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = new Socket()
    let reply = ''
    const timer = setTimeout(() => {
      socket.destroy()
      reject(new Error(`no reply from Redis within ${timeoutMs} ms`))
    }, timeoutMs)
    socket.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString('utf8')
      const end = reply.indexOf('\r\n')
      if (end === -1) return
      clearTimeout(timer)
      socket.destroy()
      resolve(reply.slice(0, end))
    })
    socket.connect(Number(port || 6379), hostname, () => {
      socket.write(
        `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`,
      )
    })
  })
}

/** Why the two-node peers cannot run here, or `null` when a Redis answers. */
export async function redisUnavailable(url = REDIS_URL): Promise<string | null> {
  try {
    const reply = await redisCommand(['PING'], url, 1000)
    return reply === '+PONG' ? null : `Redis at ${url} answered ${reply}`
  } catch (error) {
    return `no Redis answers at ${url} (${(error as Error).message})`
  }
}

/** Deletes the keys starting with `prefix` (this run's only). */
export async function deleteKeys(prefix: string, url = REDIS_URL): Promise<void> {
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
    30_000,
  )
}

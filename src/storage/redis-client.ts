import type * as RedisDriver from 'redis'
import { loadDriver } from './load-driver.ts'

// The Redis driver's clients, made the one way the store needs them (RESP2 arrays, no offline
// queue, a bounded command queue), and how to tell a command Redis never ran.

/**
 * Commands queued for a Redis that does not answer (hung, not closed) are refused past this many,
 * so a stalled Redis costs publishers a fast 503, not the hub's memory.
 */
const MAX_QUEUED_COMMANDS = 10_000

/** A client of the store. */
export type RedisClient = ReturnType<typeof newClient>

/** The driver, loaded with the first client: when it is not installed, a MissingDriverError. */
const redis = (): typeof RedisDriver => loadDriver('redis', 'ssehub/storage/redis')

/**
 * Whether Redis certainly ran none of a command that failed with `error`: the driver refused it
 * before sending it, or Redis answered with an error (it refuses a script for lack of memory only
 * before the script's first write). Anything else (no answer in time, the connection dropped)
 * may come after Redis took it.
 */
export function neverRan(error: unknown): boolean {
  const { ClientClosedError, ClientOfflineError, ErrorReply } = redis()
  return (
    error instanceof ClientClosedError ||
    error instanceof ClientOfflineError ||
    error instanceof ErrorReply ||
    // The driver's refusal past `commandsQueueMaxLength`: a plain Error.
    (error instanceof Error && error.message === 'The queue is full')
  )
}

export function newClient(
  url: string,
  connectTimeout: number,
  reconnectStrategy: (retries: number) => number | false,
) {
  return redis().createClient({
    url,
    // Arrays for every reply (XREAD, XINFO), whatever the driver's default protocol.
    RESP: 2,
    // Never hold a command for later: a publish must fail now (503) when Redis is away.
    disableOfflineQueue: true,
    commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
    socket: { connectTimeout, reconnectStrategy },
  })
}

import { createClient, type SseClient } from '../../src/client/index.ts'
import { mintToken } from '../../src/hub/mint-token.ts'
import type { Reception } from './reception.ts'

/** Options of {@link startTokenReader}. */
export interface TokenReaderOptions {
  reception: Reception
  /** The hub to subscribe to (the subscription URL without topics). */
  hubUrl: string
  /** The secret the hub verifies subscribers' tokens with. */
  key: string
  /** Lifetime of each token, in seconds: the hub ends the stream at its `exp`. */
  tokenTtlSeconds: number
  /** Whether a hub is being restarted now: streams failing then are expected. */
  restarting: () => boolean
}

/** An `SseClient` subscriber whose token expires and is renewed by its headers callback. */
export interface TokenReader {
  readonly reception: Reception
  /** Tokens minted for it (the first and each renewal). */
  readonly tokens: number
  /** `error` events by code, as the client reported them. */
  readonly errors: Readonly<Record<string, number>>
  /**
   * How often the client gave up (readyState `CLOSED`, as `EventSource` does on a non-200
   * answer) and the app had to create a new one from its `lastEventId`.
   */
  readonly gaveUp: number
  readonly connected: boolean
  close(): void
}

/**
 * Subscribes with `ssehub/client`'s `SseClient` (fetch in Node), resuming from the reception's
 * start cursor. The headers callback mints a fresh token for every connection, so each stream
 * the hub ends at `exp` is followed by one with a new token and the client's `Last-Event-ID`.
 * When the client gives up, a new one resumes from its last id, as an app would.
 */
export function startTokenReader(options: TokenReaderOptions): TokenReader {
  const { reception } = options
  const errors: Record<string, number> = {}
  let tokens = 0
  let gaveUp = 0
  let closed = false
  let timer: ReturnType<typeof setTimeout> | undefined

  const open = (lastEventId: string): SseClient => {
    const client = createClient(options.hubUrl, {
      topics: reception.topics,
      lastEventId,
      // Reconnect quickly: a restart or an `exp` every few seconds would otherwise dominate.
      initialRetryMs: 300,
      maxRetryMs: 2000,
      headers: async () => {
        tokens++
        const token = await mintToken({
          key: options.key,
          subscribe: [...reception.topics],
          expiresIn: options.tokenTtlSeconds,
        })
        return { authorization: `Bearer ${token}` }
      },
    })
    client.addEventListener('open', () => {
      reception.connections++
    })
    client.addEventListener('message', (event) => {
      reception.record(event.lastEventId, event.data)
    })
    client.addEventListener('gap', (event) => {
      reception.unknownCursors.push(event.requestedId)
    })
    client.addEventListener('error', (event) => {
      const code = event.status === undefined ? event.code : `${event.code} ${event.status}`
      errors[code] = (errors[code] ?? 0) + 1
      // A stream that fails (rather than ends) while its hub runs was cut by the hub.
      if (event.code === 'network-error' && client.readyState === 0 && !options.restarting()) {
        reception.cuts++
      }
      if (client.readyState !== 2 || closed) return
      gaveUp++
      timer = setTimeout(() => {
        if (!closed) current = open(client.lastEventId)
      }, 300)
    })
    return client
  }
  let current = open(reception.initialCursor)

  return {
    reception,
    get tokens() {
      return tokens
    },
    errors,
    get gaveUp() {
      return gaveUp
    },
    get connected() {
      return current.readyState === 1
    },
    close() {
      closed = true
      clearTimeout(timer)
      current.close()
    },
  }
}

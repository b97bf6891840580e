import { request } from 'node:http'
import { createParser } from '../../src/core/parse.ts'

/** The hub's history as one subscriber to every topic reads it back from `earliest`. */
export interface History {
  /** Ids in the order the hub replayed them (its order). */
  readonly ids: string[]
  /** Whether `until` arrived before the timeout. */
  readonly complete: boolean
  readonly bytes: number
}

/**
 * Subscribes to `*` from `earliest` with `token` (private updates included) and collects ids
 * until 500 ms after `until` arrived, or `timeoutMs` passed, then closes. Run it once
 * publishing has stopped.
 */
export function readHistory(
  hubUrl: string,
  token: string,
  until: string,
  timeoutMs: number,
): Promise<History> {
  return new Promise((resolve) => {
    const ids: string[] = []
    let bytes = 0
    let settled = false
    const url = new URL(hubUrl)
    url.searchParams.set('topic', '*')
    const req = request(url, {
      headers: {
        accept: 'text/event-stream',
        'last-event-id': 'earliest',
        authorization: `Bearer ${token}`,
      },
      agent: false,
    })
    const settle = (complete: boolean): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      req.destroy()
      resolve({ ids, complete, bytes })
    }
    const timer = setTimeout(() => settle(false), timeoutMs)
    req.on('error', () => settle(false))
    req.on('response', (res) => {
      res.on('error', () => settle(false))
      res.on('close', () => settle(false))
      if (res.statusCode !== 200) {
        res.resume()
        return
      }
      const parser = createParser({
        onEvent: (message) => {
          ids.push(message.lastEventId)
          bytes += message.data.length
          // Concurrent publishes may be committed in another order than they were acknowledged
          // in: read a little longer for those committed after the newest acknowledgement.
          if (message.lastEventId === until) setTimeout(() => settle(true), 500)
        },
      })
      res.on('data', (chunk: Buffer) => parser.feed(chunk))
    })
    req.end()
  })
}

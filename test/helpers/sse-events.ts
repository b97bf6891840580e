import { type IncomingHttpHeaders, request } from 'node:http'
import { createParser, type SseMessage } from '../../src/core/parse.ts'

/** A subscription for tests: the parsed events, the response, and ways to wait. */
export interface SseSubscription {
  readonly status: number
  readonly headers: IncomingHttpHeaders
  readonly events: SseMessage[]
  /** Resolves when the server ends or drops the response. */
  readonly ended: Promise<void>
  /** Resolves once at least `count` events arrived (rejects after `timeoutMs`, saying how many did). */
  waitForEvents(count: number, timeoutMs?: number): Promise<SseMessage[]>
  close(): void
}

/**
 * Opens `url` and parses its body with ssehub's own WHATWG parser, chunk by chunk: no text is
 * accumulated, so a test can take tens of thousands of events.
 */
export function subscribeSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<SseSubscription> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false })
    req.on('error', reject)
    req.on('response', (res) => {
      req.off('error', reject)
      req.on('error', () => {})
      res.on('error', () => {})
      const events: SseMessage[] = []
      const waiters = new Set<() => void>()
      const parser = createParser({ onEvent: (message) => events.push(message) })
      res.on('data', (chunk: Buffer) => {
        parser.feed(chunk)
        for (const waiter of waiters) waiter()
      })
      let closed = false
      const ended = new Promise<void>((done) =>
        res.on('close', () => {
          closed = true
          for (const waiter of waiters) waiter()
          done()
        }),
      )
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        events,
        ended,
        close: () => req.destroy(),
        waitForEvents(count, timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const check = (): void => {
              if (events.length >= count) {
                waiters.delete(check)
                clearTimeout(timer)
                ok(events)
              } else if (closed) {
                waiters.delete(check)
                clearTimeout(timer)
                fail(new Error(`the stream ended after ${events.length} of ${count} events`))
              }
            }
            const timer = setTimeout(() => {
              waiters.delete(check)
              fail(
                new Error(
                  `timed out after ${timeoutMs} ms with ${events.length} of ${count} events`,
                ),
              )
            }, timeoutMs)
            waiters.add(check)
            check()
          })
        },
      })
    })
    req.end()
  })
}

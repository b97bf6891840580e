import { type ClientRequest, type IncomingMessage, request } from 'node:http'

/** A raw SSE connection for tests: headers, accumulated body text, and a way to wait on it. */
export interface RawSse {
  readonly req: ClientRequest
  readonly res: IncomingMessage
  /** Everything received so far, decoded as UTF-8. */
  text(): string
  /** Resolves once the received text satisfies `done`; rejects after `timeoutMs` saying why. */
  waitFor(done: (text: string) => boolean, timeoutMs?: number): Promise<string>
  /** Resolves when the server ends or drops the response. */
  readonly ended: Promise<void>
  /** Aborts the connection from the client side. */
  abort(): void
}

/** Opens `url` with a GET and resolves once the response headers are in. */
export function openRawSse(url: string, headers: Record<string, string> = {}): Promise<RawSse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers }, agent: false })
    req.on('error', reject)
    req.on('response', (res) => {
      req.off('error', reject)
      req.on('error', () => {})
      res.setEncoding('utf8')
      let text = ''
      const waiters = new Set<() => void>()
      res.on('data', (chunk: string) => {
        text += chunk
        for (const waiter of waiters) waiter()
      })
      const ended = new Promise<void>((done) => {
        res.on('close', () => {
          for (const waiter of waiters) waiter()
          done()
        })
      })
      res.on('error', () => {})
      resolve({
        req,
        res,
        ended,
        text: () => text,
        abort: () => req.destroy(),
        waitFor(done, timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const check = (): void => {
              if (done(text)) {
                waiters.delete(check)
                clearTimeout(timer)
                ok(text)
              } else if (res.destroyed && res.readableEnded) {
                waiters.delete(check)
                clearTimeout(timer)
                fail(
                  new Error(
                    `stream ended before the condition held; got: ${JSON.stringify(text.slice(-300))}`,
                  ),
                )
              }
            }
            const timer = setTimeout(() => {
              waiters.delete(check)
              fail(
                new Error(
                  `timed out after ${timeoutMs} ms; got: ${JSON.stringify(text.slice(-300))}`,
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

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `condition` every 10 ms until it holds, failing with `message` after `timeoutMs`. */
export async function eventually(
  condition: () => boolean,
  message: string,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${message}`)
    await sleep(10)
  }
}

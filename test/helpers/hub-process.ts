import type { ChildProcess } from 'node:child_process'
import { type ClientRequest, request } from 'node:http'
import { createParser, type SseMessage } from '../../src/core/parse.ts'
import { mintToken } from '../../src/hub/mint-token.ts'
import { spawnCollecting, stopChild, waitForOutput } from './child-process.ts'
import { TEST_SECRET } from './hub-server.ts'

const CLI = new URL('../../src/server/cli.ts', import.meta.url).pathname

/** A hub started with the real CLI, in a process of its own. */
export interface HubProcess {
  readonly child: ChildProcess
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  /** `${base}/.well-known/mercure` */
  readonly hubUrl: string
  /** Everything it wrote to stdout and stderr so far (JSON log lines). */
  output(): string
  /** Sends `signal` to its pid and waits for it to exit. */
  stop(signal?: NodeJS.Signals): Promise<void>
}

/**
 * Starts `ssehub` on a free loopback port (or on `port`, to restart a hub where it was) with `env`
 * added (JSON logs, the test secret, anonymous subscribers) and resolves once it listens. Rejects
 * if it exits first or takes over 60 s (a loaded CI machine can take tens of seconds to start tsx).
 */
export async function startHubProcess(env: Record<string, string>, port = 0): Promise<HubProcess> {
  const started = spawnCollecting(
    process.execPath,
    ['--import', 'tsx', CLI, '--port', String(port), '--host', '127.0.0.1'],
    {
      env: {
        ...process.env,
        SSEHUB_JWT_KEY: TEST_SECRET,
        SSEHUB_ANONYMOUS: 'true',
        SSEHUB_LOG_FORMAT: 'json',
        ...env,
      },
    },
  )
  const { child, output } = started
  const [, base] = (await waitForOutput(
    started,
    /"url":"(http:\/\/[^"]+)"/,
    'the hub',
    60_000,
  )) as unknown as [string, string]
  return {
    child,
    base,
    hubUrl: `${base}/.well-known/mercure`,
    output,
    async stop(signal = 'SIGTERM') {
      await stopChild(child, signal)
    },
  }
}

/** A token allowed to publish to every topic, signed with the test secret. */
export function publisherToken(): Promise<string> {
  return mintToken({ key: TEST_SECRET, publish: ['*'] })
}

/** Posts one update; resolves with the status and body, or status 0 when the request failed. */
export async function publishTo(
  hubUrl: string,
  token: string,
  fields: Record<string, string>,
): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(hubUrl, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Bearer ${token}`,
      },
      body: new URLSearchParams(fields).toString(),
      signal: AbortSignal.timeout(10_000),
    })
    return { status: res.status, body: await res.text() }
  } catch {
    return { status: 0, body: '' }
  }
}

/** An event as a {@link ResumingSubscriber} got it: the message, and when it arrived. */
export interface ReceivedEvent extends SseMessage {
  /** `performance.timeOrigin + performance.now()` when it was parsed, in milliseconds. */
  readonly receivedAt: number
}

/**
 * A subscriber that behaves like `EventSource`: when its stream ends or fails it reconnects, to
 * the URL `url()` gives then (so a test can move it to another node), with the id of the last
 * event it got as `Last-Event-ID`.
 */
export interface ResumingSubscriber {
  /** Every event received, over all its connections. */
  readonly events: ReceivedEvent[]
  /** How many responses it got (1 + reconnections). */
  readonly connections: number
  /** The `Last-Event-ID` response header of each connection that sent one. */
  readonly resumedFrom: string[]
  /** Resolves once it received `count` events; rejects after `timeoutMs`, saying how many. */
  waitForEvents(count: number, timeoutMs?: number): Promise<void>
  /** Resolves once it has connected `count` times in all; rejects after `timeoutMs`. */
  waitForConnections(count: number, timeoutMs?: number): Promise<void>
  close(): void
}

/**
 * Subscribes at `url()` and resubscribes (100 ms after a stream ends, at most `maxAttempts`
 * times in all) with `Last-Event-ID`. Resolves once the first response is in.
 */
export function resumingSubscriber(
  url: () => string,
  maxAttempts = 50,
): Promise<ResumingSubscriber> {
  const events: ReceivedEvent[] = []
  const resumedFrom: string[] = []
  const waiters = new Set<() => void>()
  let connections = 0
  let attempts = 0
  let closed = false
  let current: ClientRequest | undefined
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter()
  }
  const waitFor = (done: () => boolean, what: () => string, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (!done()) return
        waiters.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        waiters.delete(check)
        reject(new Error(`timed out after ${timeoutMs} ms: ${what()}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })

  return new Promise((resolveFirst, rejectFirst) => {
    const retry = (): void => {
      if (closed) return
      if (attempts >= maxAttempts) {
        rejectFirst(new Error(`no connection after ${attempts} attempts`))
        return
      }
      setTimeout(connect, 100)
    }
    const connect = (): void => {
      if (closed) return
      attempts++
      const last = events.at(-1)?.lastEventId
      const headers: Record<string, string> = { accept: 'text/event-stream' }
      if (last !== undefined) headers['last-event-id'] = last
      const req = request(url(), { headers, agent: false })
      current = req
      req.on('error', retry)
      req.on('response', (res) => {
        req.off('error', retry)
        req.on('error', () => {})
        res.on('error', () => {})
        if (res.statusCode !== 200) {
          res.resume()
          res.on('close', retry)
          return
        }
        connections++
        const resumed = res.headers['last-event-id']
        if (typeof resumed === 'string') resumedFrom.push(resumed)
        const parser = createParser({
          onEvent: (message) => {
            events.push({ ...message, receivedAt: performance.timeOrigin + performance.now() })
          },
        })
        res.on('data', (chunk: Buffer) => {
          parser.feed(chunk)
          notify()
        })
        res.on('close', () => {
          notify()
          retry()
        })
        resolveFirst(subscriber)
        notify()
      })
      req.end()
    }
    const subscriber: ResumingSubscriber = {
      events,
      resumedFrom,
      get connections() {
        return connections
      },
      waitForEvents: (count, timeoutMs = 20_000) =>
        waitFor(
          () => events.length >= count,
          () => `${events.length} of ${count} events`,
          timeoutMs,
        ),
      waitForConnections: (count, timeoutMs = 20_000) =>
        waitFor(
          () => connections >= count,
          () => `${connections} of ${count} connections`,
          timeoutMs,
        ),
      close() {
        closed = true
        current?.destroy()
      },
    }
    connect()
  })
}

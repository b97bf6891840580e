// The loopback fixtures and helpers shared by the client conformance tests
// (client-conformance.test.ts, client-behaviour.test.ts).
import assert from 'node:assert/strict'
import { after, before } from 'node:test'
import { SseClient, type SseClientOptions } from '../../src/client/index.ts'
import { type LoggedEvent, logClient } from './client-log.ts'
import { sleep } from './raw-sse.ts'
import { startWptServer, type WptServer } from './wpt-server.ts'

export const CONNECTING = 0
export const OPEN = 1
export const CLOSED = 2

/** What a vector expects of one server event. */
export interface Expected {
  data: string
  type?: string
  lastEventId?: string
}

/** The WPT fixture server, started by {@link useWptServers}. */
export let server: WptServer
/** A second fixture on another port: another origin, for redirects. */
export let other: WptServer
const clients = new Set<SseClient>()

/** Starts both fixtures before the file's tests and closes them, and every client, after. */
export function useWptServers(): void {
  before(async () => {
    ;[server, other] = await Promise.all([startWptServer(), startWptServer()])
  })
  after(async () => {
    for (const client of clients) client.close()
    await Promise.all([server.close(), other.close()])
  })
}

/** A client that the suite closes in the end; no jitter, so delays can be measured. */
export function open(url: string, options: SseClientOptions = {}, types: string[] = []) {
  const client = new SseClient(url, { jitter: false, ...options })
  clients.add(client)
  return { client, log: logClient(client, types) }
}

/** The server events of the first connection: everything logged before its stream ended. */
export async function firstStream(url: string, types: string[] = []): Promise<LoggedEvent[]> {
  const { client, log } = open(url, { initialRetryMs: 60_000 }, types)
  await log.waitFor('error')
  client.close()
  const [opened, ...rest] = log.events
  assert.equal(opened?.type, 'open')
  const end = rest.at(-1)
  assert.equal(end?.type, 'error')
  assert.equal(end?.readyState, CONNECTING, 'the end of the body means a reconnection')
  return rest.slice(0, -1)
}

export function assertEvents(events: LoggedEvent[], expected: Expected[]): void {
  assert.deepEqual(
    events.map(({ type, data, lastEventId }) => ({ type, data, lastEventId })),
    expected.map(({ type = 'message', data, lastEventId = '' }) => ({ type, data, lastEventId })),
  )
}

/** Waits until `ms` milliseconds pass, for asserting that something does *not* happen. */
export const quietPeriod = (ms: number): Promise<void> => sleep(ms)

/** Asserts `later` fired about `ms` after `earlier` (at least `ms`, at most twice it). */
export function within(
  later: LoggedEvent | undefined,
  earlier: LoggedEvent | undefined,
  ms: number,
) {
  const elapsed = (later?.at ?? Number.NaN) - (earlier?.at ?? Number.NaN)
  assert.ok(elapsed >= ms * 0.9 && elapsed <= ms * 2, `fired after ${elapsed} ms, expected ~${ms}`)
}

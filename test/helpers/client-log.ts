import type { SseClient } from '../../src/client/index.ts'

/** One event an {@link SseClient} fired, as a test sees it. */
export interface LoggedEvent {
  /** The event's type: `open`, `error`, `gap`, `message` or a server event type. */
  readonly type: string
  /** `readyState` when the event fired. */
  readonly readyState: number
  /** `performance.now()` when it fired. */
  readonly at: number
  readonly data?: string
  readonly lastEventId?: string
  readonly origin?: string
  /** For `error`: the code and status. */
  readonly code?: string
  readonly status?: number | undefined
  /** For `gap`. */
  readonly requestedId?: string
  readonly hubLastEventId?: string
}

/** Everything a client fires, and ways to wait for it. */
export interface ClientLog {
  readonly events: LoggedEvent[]
  /** The logged events of type `type`. */
  of(type: string): LoggedEvent[]
  /** The `data` of every server event (any type), in order. */
  data(): string[]
  /**
   * Resolves once `done` holds for the log; rejects after `timeoutMs`, quoting the log, or as
   * soon as the client closes with `done` still false.
   */
  until(done: (events: LoggedEvent[]) => boolean, timeoutMs?: number): Promise<LoggedEvent[]>
  /** Resolves once `count` events of type `type` were logged. */
  waitFor(type: string, count?: number, timeoutMs?: number): Promise<LoggedEvent[]>
}

const OWN = new Set(['open', 'error', 'gap'])

/** Logs `client`'s `open`, `error`, `gap` and `message` events, plus the server event `types`. */
export function logClient(client: SseClient, types: readonly string[] = []): ClientLog {
  const events: LoggedEvent[] = []
  const waiters = new Set<() => void>()
  const record = (event: Event): void => {
    const base = { type: event.type, readyState: client.readyState, at: performance.now() }
    if (event.type === 'error') {
      const { code, status } = event as Event & { code: string; status?: number }
      events.push({ ...base, code, status })
    } else if (event.type === 'gap') {
      const { requestedId, hubLastEventId } = event as Event & {
        requestedId: string
        hubLastEventId: string
      }
      events.push({ ...base, requestedId, hubLastEventId })
    } else if (event instanceof MessageEvent) {
      events.push({
        ...base,
        data: event.data as string,
        lastEventId: event.lastEventId,
        origin: event.origin,
      })
    } else {
      events.push(base)
    }
    for (const waiter of waiters) waiter()
  }
  for (const type of new Set(['open', 'error', 'gap', 'message', ...types])) {
    client.addEventListener(type, record)
  }
  const until: ClientLog['until'] = (done, timeoutMs = 5000) =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (done(events)) {
          settle()
          resolve(events)
        } else if (client.readyState === client.CLOSED && events.at(-1)?.type === 'error') {
          settle()
          reject(new Error(`the client closed first; log: ${JSON.stringify(events)}`))
        }
      }
      const settle = (): void => {
        waiters.delete(check)
        clearTimeout(timer)
      }
      const timer = setTimeout(() => {
        settle()
        reject(new Error(`timed out after ${timeoutMs} ms; log: ${JSON.stringify(events)}`))
      }, timeoutMs)
      waiters.add(check)
      check()
    })
  return {
    events,
    of: (type) => events.filter((event) => event.type === type),
    data: () => events.filter((event) => !OWN.has(event.type)).map((event) => event.data as string),
    until,
    waitFor: (type, count = 1, timeoutMs) =>
      until((all) => all.filter((event) => event.type === type).length >= count, timeoutMs),
  }
}

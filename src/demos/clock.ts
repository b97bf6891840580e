import { randomBytes, randomInt } from 'node:crypto'
import type { EventStream } from '../index.ts'

/** Options for {@link createClockDemo}. */
export interface ClockDemoOptions {
  /** Milliseconds between two messages. Defaults to `500`, as the seed's `usleep(500000)`. */
  intervalMs?: number
}

/** The clock demo: the seed tutorial's `server.php`, one timer per connected client. */
export interface ClockDemo {
  /** Starts the clock on a freshly opened stream; it stops when the stream closes. */
  start(stream: EventStream): string
  /** Clocks currently running (one per connected client). */
  readonly active: number
}

/**
 * The seed's demo, reproduced: first `YOUR ID IS <5 hex chars>`, then right away and every
 * `intervalMs` `<id> - Message #<n> from server sent on <ISO-8601 date> - RN: <1..10000>`.
 * The PHP loop noticed a gone client only on its next write; here the timer stops the moment the
 * stream closes.
 */
export function createClockDemo(options: ClockDemoOptions = {}): ClockDemo {
  const intervalMs = options.intervalMs ?? 500
  let active = 0
  return {
    get active() {
      return active
    },
    start(stream) {
      const id = randomBytes(3).toString('hex').slice(0, 5)
      let counter = 0
      const tick = (): void => {
        const date = new Date().toISOString()
        const rn = randomInt(1, 10_001)
        stream.send({ data: `${id} - Message #${counter} from server sent on ${date} - RN: ${rn}` })
        counter++
      }
      stream.send({ data: `YOUR ID IS ${id}` })
      tick()
      const timer = setInterval(tick, intervalMs)
      active++
      stream.onClose(() => {
        clearInterval(timer)
        active--
      })
      return id
    },
  }
}

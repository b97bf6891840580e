import { DEFAULT_HEARTBEAT_MS } from './defaults.ts'

/** Anything a heartbeat can beat on: an {@link EventStream} in practice. */
export interface HeartbeatTarget {
  /** Writes one keep-alive comment. */
  heartbeat(): void
}

/** Options for {@link createHeartbeat}. */
export interface HeartbeatOptions {
  /** Milliseconds between two keep-alive comments on every stream. Defaults to `15000`. */
  intervalMs?: number
}

/**
 * One timer for any number of streams. A timer per connection costs memory and wake-ups that grow
 * with the audience (and leak when a close handler is missed: anomalyco/opencode#15645); one shared
 * interval runs only while at least one stream is registered, and never keeps a process alive.
 */
export interface Heartbeat {
  /** The interval in milliseconds. */
  readonly intervalMs: number
  /** How many streams are registered. */
  readonly size: number
  /** Starts beating on `target`; the timer starts with the first target. */
  add(target: HeartbeatTarget): void
  /** Stops beating on `target`; the timer stops with the last target. */
  delete(target: HeartbeatTarget): void
}

/** Creates a shared heartbeat. See {@link Heartbeat}. */
export function createHeartbeat(options: HeartbeatOptions = {}): Heartbeat {
  const intervalMs = options.intervalMs ?? DEFAULT_HEARTBEAT_MS
  if (!Number.isFinite(intervalMs) || intervalMs <= 0) {
    throw new RangeError(
      `Heartbeat interval must be a positive number of milliseconds, got ${intervalMs}.`,
    )
  }
  const targets = new Set<HeartbeatTarget>()
  let timer: ReturnType<typeof setInterval> | undefined

  const beat = (): void => {
    for (const target of targets) target.heartbeat()
  }

  return {
    intervalMs,
    get size() {
      return targets.size
    },
    add(target) {
      targets.add(target)
      if (timer === undefined) {
        timer = setInterval(beat, intervalMs)
        // In Node a pending interval would hold the process open after every stream has closed.
        ;(timer as { unref?: () => void }).unref?.()
      }
    },
    delete(target) {
      targets.delete(target)
      if (targets.size === 0 && timer !== undefined) {
        clearInterval(timer)
        timer = undefined
      }
    },
  }
}

const shared = new Map<number, Heartbeat>()

/** The process-wide heartbeat for `intervalMs`, created on first use. */
export function sharedHeartbeat(intervalMs: number = DEFAULT_HEARTBEAT_MS): Heartbeat {
  let heartbeat = shared.get(intervalMs)
  if (heartbeat === undefined) {
    heartbeat = createHeartbeat({ intervalMs })
    shared.set(intervalMs, heartbeat)
  }
  return heartbeat
}

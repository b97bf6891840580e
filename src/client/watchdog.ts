/** An inactivity timer made by {@link createWatchdog}. */
export interface Watchdog {
  /** Records activity: the timeout counts from now. Cheap enough to call for every chunk. */
  touch(): void
  /** Stops counting until {@link Watchdog.resume} (while the reader is deliberately not reading). */
  pause(): void
  /** Counts again, from now. */
  resume(): void
  /** Stops for good. */
  stop(): void
}

/**
 * Calls `onTimeout` once when `timeoutMs` milliseconds pass without {@link Watchdog.touch}.
 * Starts counting at once.
 *
 * One timer per timeout rather than one per touch: on expiry it checks the time of the last
 * activity and sleeps again for the remainder, so a busy stream costs a `Date.now()` per chunk.
 */
export function createWatchdog(timeoutMs: number, onTimeout: () => void): Watchdog {
  let last = Date.now()
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  const arm = (delay: number): void => {
    timer = setTimeout(check, delay)
  }
  const check = (confirming = false): void => {
    timer = undefined
    if (stopped) return
    const idle = Date.now() - last
    if (idle < timeoutMs) {
      arm(timeoutMs - idle)
    } else if (!confirming) {
      // After the event loop was blocked (a long task, a laptop waking up), the timer can run
      // before the bytes already waiting on the socket are read: one more turn of the loop lets
      // them count before the stream is declared dead.
      timer = setTimeout(check, 0, true)
    } else {
      stopped = true
      onTimeout()
    }
  }
  const clear = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
  arm(timeoutMs)

  return {
    touch() {
      last = Date.now()
    },
    pause() {
      clear()
    },
    resume() {
      if (stopped || timer !== undefined) return
      last = Date.now()
      arm(timeoutMs)
    },
    stop() {
      stopped = true
      clear()
    },
  }
}

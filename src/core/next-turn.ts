/**
 * Runs `callback` in the next turn of the event loop, after this turn's I/O callbacks:
 * `setImmediate` in Node; a zero timeout in browsers, which have none. A microtask would run
 * before any I/O, which is what the stream flush and the replay pacing must let through.
 */
export const scheduleImmediate: (callback: () => void) => void =
  typeof globalThis.setImmediate === 'function'
    ? (callback) => {
        globalThis.setImmediate(callback)
      }
    : (callback) => {
        setTimeout(callback, 0)
      }

import type { NodeRequest } from './event-stream-response.ts'

// `Expect: 100-continue` (RFC 9110 §10.1.1): the client sends its headers and waits for an
// interim `100 Continue` before it sends the body (curl does for bodies over 1 MiB). Node answers
// 100 at once unless the server listens for 'checkContinue', so a publish without a token had
// its body uploaded in full before its 401. The server defers the 100 to the first read of the
// body: a request refused on its headers (401, 403, 413, 415) is answered before any body moves.

const waiting = new WeakMap<object, () => void>()

/**
 * Notes that `req`'s client waits for `100 Continue`, and defers it to the first read of the body
 * (`readBody`, and the hub's own reads), through `writeContinue`. Call it from the server's
 * `'checkContinue'` listener, which Node then leaves the 100 to, so that a request refused on its
 * headers is answered before its client uploads anything:
 *
 * ```ts
 * server.on('checkContinue', (req, res) => {
 *   deferContinue(req, () => res.writeContinue())
 *   server.emit('request', req, res)
 * })
 * ```
 *
 * Routes of your own that read bodies another way must then send it themselves
 * (`res.writeContinue()`), or their clients wait for it (curl: one second) before they send.
 */
export function deferContinue(req: object, writeContinue: () => void): void {
  waiting.set(req, writeContinue)
}

/** Sends `100 Continue` if `req`'s client waits for it: call right before reading the body. */
export function sendContinue(req: NodeRequest | object): void {
  const writeContinue = waiting.get(req)
  if (writeContinue === undefined) return
  waiting.delete(req)
  writeContinue()
}

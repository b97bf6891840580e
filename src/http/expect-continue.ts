import type { NodeRequest } from './event-stream-response.ts'

// `Expect: 100-continue` (RFC 9110 §10.1.1): the client sends its headers and waits for an
// interim `100 Continue` before it sends the body (curl does for bodies over 1 MiB). Node answers
// 100 at once unless the server listens for 'checkContinue', so a publish without a token had
// its body uploaded in full before its 401. The server defers the 100 to the first read of the
// body: a request refused on its headers (401, 403, 413, 415) is answered before any body moves.

const waiting = new WeakMap<object, () => void>()

/** Notes that `req`'s client waits for `100 Continue`, sent through `writeContinue`. */
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

import { BodyTimeoutError, BodyTooLargeError } from './body-errors.ts'
import { coarseTimeouts } from './coarse-timeouts.ts'
import type { NodeRequest } from './event-stream-response.ts'
import { sendContinue } from './expect-continue.ts'

/** Options for {@link readBody}. */
export interface ReadBodyOptions {
  /**
   * Milliseconds, counted from the call, within which the whole body must have arrived; past them
   * the read stops with {@link BodyTimeoutError} and what was read is released, at most a quarter
   * of them (rounded up to whole milliseconds) later: the deadlines of all reads share one timer
   * (`coarse-timeouts.ts`). `null` for no deadline. Defaults to `null`.
   */
  timeoutMs?: number | null
}

/**
 * Reads a request body of at most `limit` bytes. A `Content-Length` over the limit is refused
 * before reading; a body that grows past it while streaming (chunked, or a lying length) stops
 * being buffered at the limit: a publisher cannot make the hub hold more than `limit` bytes.
 *
 * On {@link BodyTooLargeError} the rest of the body is still being read and dropped, so the 413
 * can go out on a healthy connection: answer, then call `discardRefusedBody` (refused-body.ts),
 * which bounds that reading in time and bytes.
 *
 * On {@link BodyTimeoutError} nothing more is read: answer, then call `discardRefusedBody` with
 * `close: true`.
 */
export function readBody(
  req: NodeRequest,
  limit: number,
  options: ReadBodyOptions = {},
): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    return Promise.reject(new BodyTooLargeError(limit))
  }
  sendContinue(req)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.byteLength
      if (size > limit) {
        cleanup()
        // Keep reading (and dropping) so the 413 can be sent on a healthy connection.
        req.resume()
        reject(new BodyTooLargeError(limit))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = (): void => {
      cleanup()
      // A small body comes in one chunk, which is the body: no copy (issue #15).
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size))
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(error)
    }
    // DoS guard (slow body): without a deadline, a client that sends part of a body and stalls
    // holds what was read until Node's request timeout, 5 minutes. One timer for all the bodies
    // being read (coarse-timeouts.ts), not one per request.
    const timeoutMs = options.timeoutMs ?? null
    const timeouts = timeoutMs === null ? undefined : coarseTimeouts(timeoutMs)
    const onTimeout = (): void => {
      cleanup()
      chunks.length = 0
      reject(new BodyTimeoutError(timeoutMs as number))
    }
    const slot = timeouts?.add(onTimeout)
    const cleanup = (): void => {
      if (slot !== undefined) timeouts?.delete(slot, onTimeout)
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

import { BodyTimeoutError, BodyTooLargeError } from '../http/body-errors.ts'
import { coarseTimeouts, type TimeoutSlot } from '../http/coarse-timeouts.ts'

/** Options for {@link readRequestBody}. */
export interface ReadRequestBodyOptions {
  /**
   * Milliseconds, counted from the call, within which the whole body must have arrived; past them
   * the read stops with {@link BodyTimeoutError} and what was read is released, at most a quarter
   * of them (rounded up to whole milliseconds) later: the deadlines of all reads share one timer
   * (`coarse-timeouts.ts`). `null` for no deadline. Defaults to `null`.
   */
  timeoutMs?: number | null
}

/**
 * Reads a web request's body of at most `limit` bytes, the fetch counterpart of `readBody`
 * (`http/read-body.ts`). A `Content-Length` over the limit is refused before reading; a body that
 * grows past it while streaming stops being buffered at the limit: a publisher cannot make the hub
 * hold more than `limit` bytes.
 *
 * What is left of a refused body is not read, and not cancelled either: on Node behind an adapter,
 * cancelling the body destroys the socket before the answer (413, 408) could go out. The runtime
 * decides what becomes of it once the answer is sent (Node reads and drops it within the server's
 * `requestTimeout`).
 *
 * @throws {BodyTooLargeError} past `limit`.
 * @throws {BodyTimeoutError} past `timeoutMs`.
 */
export async function readRequestBody(
  request: Request,
  limit: number,
  options: ReadRequestBodyOptions = {},
): Promise<Uint8Array> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLargeError(limit)
  if (request.body === null) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  // DoS guard (slow body): without a deadline, a client that sends part of a body and stalls
  // holds what was read for as long as the runtime lets it. One timer for all the bodies being
  // read (coarse-timeouts.ts), not one per request.
  const timeoutMs = options.timeoutMs ?? null
  const timeouts = timeoutMs === null ? undefined : coarseTimeouts(timeoutMs)
  let onTimeout: (() => void) | undefined
  let slot: TimeoutSlot | undefined
  const deadline =
    timeouts === undefined
      ? null
      : new Promise<never>((_, reject) => {
          onTimeout = () => reject(new BodyTimeoutError(timeouts.ms))
          slot = timeouts.add(onTimeout)
        })
  try {
    for (;;) {
      const read = reader.read()
      const { done, value } = deadline === null ? await read : await Promise.race([read, deadline])
      if (done) break
      size += value.byteLength
      if (size > limit) throw new BodyTooLargeError(limit)
      chunks.push(value)
    }
  } catch (error) {
    chunks.length = 0
    throw error
  } finally {
    if (slot !== undefined && onTimeout !== undefined) timeouts?.delete(slot, onTimeout)
  }
  if (chunks.length === 1) return chunks[0] as Uint8Array
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

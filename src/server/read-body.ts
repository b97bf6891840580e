import type { NodeRequest } from './event-stream-response.ts'

/** The body was larger than allowed; answer 413. */
export class BodyTooLargeError extends Error {
  readonly limit: number
  constructor(limit: number) {
    super(`The request body is larger than ${limit} bytes.`)
    this.name = 'BodyTooLargeError'
    this.limit = limit
  }
}

/**
 * Reads a request body of at most `limit` bytes. A `Content-Length` over the limit is refused
 * before reading; a body that grows past it while streaming (chunked, or a lying length) stops
 * being buffered at the limit: a publisher cannot make the hub hold more than `limit` bytes.
 *
 * On {@link BodyTooLargeError} the rest of the body is still being read and dropped, so the 413
 * can go out on a healthy connection: answer, then call `discardRefusedBody` (refused-body.ts),
 * which bounds that reading in time and bytes.
 */
export function readBody(req: NodeRequest, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'])
  if (Number.isFinite(declared) && declared > limit) {
    req.resume()
    return Promise.reject(new BodyTooLargeError(limit))
  }
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
      resolve(Buffer.concat(chunks, size))
    }
    const onError = (error: Error): void => {
      cleanup()
      reject(error)
    }
    const cleanup = (): void => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
  })
}

// The two ways reading a publish body fails, shared by the Node reader (`read-body.ts`) and the
// fetch handler's (`web/read-request-body.ts`): the protocol answers both alike.

/** The body was larger than allowed; answer 413. */
export class BodyTooLargeError extends Error {
  /** The limit, in bytes. */
  readonly limit: number
  constructor(limit: number) {
    super(`The request body is larger than ${limit} bytes.`)
    this.name = 'BodyTooLargeError'
    this.limit = limit
  }
}

/** The body did not arrive within its deadline; answer 408 and close the connection. */
export class BodyTimeoutError extends Error {
  /** The deadline, in milliseconds. */
  readonly timeoutMs: number
  constructor(timeoutMs: number) {
    super(`The request body did not arrive within ${timeoutMs} ms.`)
    this.name = 'BodyTimeoutError'
    this.timeoutMs = timeoutMs
  }
}

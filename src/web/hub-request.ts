import type { HubRequest } from '../http/mercure-protocol.ts'
import type { RequestHeaders } from '../http/request-headers.ts'

/**
 * What the protocol reads of a web `Request`: its method, URL and headers. `Headers` already
 * holds lower-case names and byte-string values (one char per byte), as Node's do, so the
 * protocol reads both alike.
 *
 * @throws {TypeError} when `request.url` is not an absolute URL.
 */
export function hubRequest(request: Request, clientAddress: string | undefined): HubRequest {
  const headers: Record<string, string> = {}
  for (const [name, value] of request.headers) headers[name] = value
  return {
    method: request.method.toUpperCase(),
    url: new URL(request.url),
    headers: headers satisfies RequestHeaders,
    clientAddress,
  }
}

/**
 * What the Mercure protocol answers a request with, before any framework writes it: the Node
 * handler (`mercure-handler.ts`) writes it to a `ServerResponse`, the fetch handler
 * (`web/mercure-fetch-handler.ts`) makes it a `Response`.
 */
export interface HubAnswer {
  /** The HTTP status. */
  readonly status: number
  /**
   * Response headers by lower-case name. Values are byte strings (one char per byte): text that is
   * not ASCII went through `utf8HeaderValue`, so every framework sends it as its UTF-8 bytes.
   */
  readonly headers: Readonly<Record<string, string>>
  /** The body (plain text or JSON), or `null` for none (204, 304, the head of a stream). */
  readonly body: string | null
  /**
   * Set when the request may have a body the hub did not read, and what to do with it:
   * - `close`: the request was refused before its body was read (no token, a token that may not
   *   publish, a wrong content type, a body too slow). Read none of it: close the connection
   *   (HTTP/1.x) or reset the stream (HTTP/2) once the answer is out (DoS guard).
   * - `drain`: the body was too large (413) from a publisher with a valid token; the rest may be
   *   read and dropped, bounded, to keep the connection.
   *
   * Frameworks that own no connection (the fetch handler) cancel the request's body either way.
   */
  readonly unreadBody?: 'close' | 'drain' | undefined
}

/**
 * A short plain-text answer: the shape of every error ssehub gives over HTTP (never cached,
 * never sniffed as HTML).
 */
export function textAnswer(
  status: number,
  text: string,
  headers: Readonly<Record<string, string>> = NO_FIELDS,
): HubAnswer {
  return {
    status,
    // Without headers of its own (no CORS: every publish from a server), one object for all.
    headers: hasFields(headers) ? { ...headers, ...TEXT_HEADERS } : TEXT_HEADERS,
    body: text,
  }
}

const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze({})
const TEXT_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/plain; charset=utf-8',
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
})

/** Whether `headers` has any field (without building the array `Object.keys` would). */
function hasFields(headers: Readonly<Record<string, string>>): boolean {
  for (const _ in headers) return true
  return false
}

/** A JSON answer (`application/json`), never cached by default and never sniffed. */
export function jsonAnswer(
  status: number,
  value: unknown,
  headers: Readonly<Record<string, string>> = {},
): HubAnswer {
  return {
    status,
    headers: {
      'cache-control': 'no-store',
      ...headers,
      'content-type': 'application/json',
      'x-content-type-options': 'nosniff',
    },
    body: JSON.stringify(value),
  }
}

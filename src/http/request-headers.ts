/**
 * A request's headers by lower-case name, as the server decoded them (one char per byte, so text
 * that is not ASCII arrives as its UTF-8 bytes read as latin1). Node's `IncomingHttpHeaders` fits;
 * for a web `Request`, see `web/hub-request.ts`.
 */
export type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>

/** The header `name` when it was sent once, else `undefined`. */
export function singleHeader(headers: RequestHeaders, name: string): string | undefined {
  const value = headers[name]
  return typeof value === 'string' ? value : undefined
}

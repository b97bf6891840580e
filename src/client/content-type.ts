/**
 * Whether a `Content-Type` value's MIME essence is `text/event-stream`. Parameters are ignored
 * ([spec] the stream is UTF-8 whatever `charset` says), so `text/event-stream;` and
 * `text/event-stream;charset=windows-1252` pass, and `text/x-bogus` or `x bogus` do not.
 */
export function isEventStream(contentType: string | null): boolean {
  if (contentType === null) return false
  const semicolon = contentType.indexOf(';')
  const essence = semicolon === -1 ? contentType : contentType.slice(0, semicolon)
  // HTTP whitespace around the essence is insignificant; type and subtype are case-insensitive.
  return essence.trim().toLowerCase() === 'text/event-stream'
}

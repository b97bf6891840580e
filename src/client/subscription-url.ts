/**
 * The URL of a Mercure subscription: `hub` with one `topic` parameter per topic or selector, so
 * every topic rides on one connection (browsers allow six per host on HTTP/1.1), and
 * `cursor=1`, which asks an ssehub hub to send the newest id at connect (an id-only block, which
 * dispatches nothing): a stream that drops before its first event then resumes with no gap.
 * Other hubs ignore it. Parameters already in `hub` are kept (a `cursor` given there wins). A
 * relative `hub` resolves against the page's address in a browser.
 *
 * @example
 * ```ts
 * subscriptionUrl('/.well-known/mercure', ['https://example.com/books/{id}', '/chat/lobby'])
 * // → …/.well-known/mercure?topic=https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D&topic=%2Fchat%2Flobby&cursor=1
 * ```
 *
 * @throws {SyntaxError} when `hub` is not a valid URL (or is relative outside a browser).
 */
export function subscriptionUrl(hub: string | URL, topics: Iterable<string>): URL {
  const url = resolveUrl(hub)
  for (const topic of topics) url.searchParams.append('topic', topic)
  if (!url.searchParams.has('cursor')) url.searchParams.set('cursor', '1')
  return url
}

/**
 * `url` as an absolute `URL` (a copy), relative to the page's address when there is one.
 *
 * @throws {SyntaxError} when it is not a valid URL.
 */
export function resolveUrl(url: string | URL): URL {
  const base = (globalThis as { location?: { href?: string } }).location?.href
  try {
    return new URL(url, base)
  } catch {
    // The URL is left out of the message: its query may hold an `authorization` token.
    throw new SyntaxError(
      base === undefined
        ? 'Invalid URL: outside a browser, give an absolute URL (http:// or https://).'
        : 'Invalid URL.',
    )
  }
}

/**
 * What a subscription selects, for {@link subscriptionUrl}: Mercure 0.x `topics`, or Mercure 1.0
 * `match` and `matchUrlPattern` (never both kinds), and whether to ask for the hub's gap signal.
 * Every member is optional.
 */
export interface SubscriptionSelectors {
  /** Mercure 0.x topics or topic selectors, one `topic` parameter each. Defaults to none. */
  topics?: Iterable<string> | undefined
  /** Mercure 1.0 exact topics (or `*`), one `match` parameter each. Defaults to none. */
  match?: Iterable<string> | undefined
  /** Mercure 1.0 URL patterns, one `match_urlpattern` parameter each. Defaults to none. */
  matchUrlPattern?: Iterable<string> | undefined
  /** Adds `gap=1`: the hub signals in the stream a resume it could not honour. Defaults to `false`. */
  gapSignal?: boolean | undefined
}

/** Query parameters that carry a token: Mercure 0.x's, and RFC 6750's. */
const TOKEN_PARAMETERS = ['authorization', 'access_token']

/**
 * The URL of a Mercure subscription: `hub` with one parameter per selector, so every selector
 * rides on one connection (browsers allow six per host on HTTP/1.1), and `cursor=1`, which asks
 * an ssehub hub to send the newest id at connect (an id-only block, which dispatches nothing): a
 * stream that drops before its first event then resumes with no gap. Other hubs ignore it.
 *
 * - Mercure 0.x: `topics` (or an iterable in place of the options) become `topic` parameters.
 * - Mercure 1.0: `match` and `matchUrlPattern` become `match` and `match_urlpattern` parameters,
 *   form-encoded as `URLSearchParams` does (the hub parses them with the WHATWG form parser).
 *
 * Parameters already in `hub` are kept (a `cursor` given there wins). A relative `hub` resolves
 * against the page's address in a browser.
 *
 * @example
 * ```ts
 * subscriptionUrl('/.well-known/mercure', ['https://example.com/books/{id}', '/chat/lobby'])
 * // → …/.well-known/mercure?topic=https%3A%2F%2Fexample.com%2Fbooks%2F%7Bid%7D&topic=%2Fchat%2Flobby&cursor=1
 * subscriptionUrl('/.well-known/mercure', { match: ['/chat/lobby'], matchUrlPattern: ['/books/:id'] })
 * // → …/.well-known/mercure?match=%2Fchat%2Flobby&match_urlpattern=%2Fbooks%2F%3Aid&cursor=1
 * ```
 *
 * @throws {SyntaxError} when `hub` is not a valid URL (or is relative outside a browser).
 * @throws {TypeError} when 0.x topics and 1.0 matchers are mixed (a hub answers 400), or when a
 *   1.0 subscription URL carries a token (1.0 hubs ignore it: send it as a header or cookie).
 */
export function subscriptionUrl(
  hub: string | URL,
  selectors: Iterable<string> | SubscriptionSelectors,
): URL {
  const url = resolveUrl(hub)
  const options: SubscriptionSelectors = isIterable(selectors) ? { topics: selectors } : selectors
  const { topics, match, matchUrlPattern } = options
  const params = url.searchParams
  for (const topic of topics ?? []) params.append('topic', topic)
  for (const value of match ?? []) params.append('match', value)
  for (const pattern of matchUrlPattern ?? []) params.append('match_urlpattern', pattern)
  const selecting = topics !== undefined || match !== undefined || matchUrlPattern !== undefined
  if (selecting && !params.has('cursor')) params.set('cursor', '1')
  if (options.gapSignal === true) params.set('gap', '1')
  checkProtocol(params)
  return url
}

/**
 * Refuses a URL no hub would serve as meant: `topic` beside a `match*` parameter (a hub answers
 * 400), or a 1.0 one carrying a token in its query.
 */
function checkProtocol(params: URLSearchParams): void {
  // [spec] draft-08 §Subscription: every name starting with "match" (ASCII case-insensitive) is
  // reserved for matchers.
  const modern = [...params.keys()].some((name) => name.toLowerCase().startsWith('match'))
  if (!modern) return
  if (params.has('topic')) {
    throw new TypeError(
      'A subscription is either Mercure 0.x (topics) or Mercure 1.0 (match, matchUrlPattern), not both: hubs refuse one mixing them.',
    )
  }
  // [spec] draft-08 §Token presentation: no query parameter. A token in a URL also leaks into
  // logs, history and Referer headers; the hub would ignore it anyway.
  if (TOKEN_PARAMETERS.some((name) => params.has(name))) {
    throw new TypeError(
      'Mercure 1.0 hubs never read a token from the URL: send it with the headers option (Authorization: Bearer <token>) or in a cookie.',
    )
  }
}

function isIterable(value: unknown): value is Iterable<string> {
  return typeof (value as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function'
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

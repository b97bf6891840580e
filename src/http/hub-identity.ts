/** The hub's path (Mercure: "MUST be the well-known path"). */
export const HUB_PATH = '/.well-known/mercure'

/**
 * Where the hub's RFC 9728 protected resource metadata is: [spec] draft-08 §Discovery, the
 * well-known suffix inserted before the hub's path.
 */
export const METADATA_PATH = `/.well-known/oauth-protected-resource${HUB_PATH}`

/** What {@link HubIdentity} reads of a request. */
export interface AddressedRequest {
  readonly url: URL
  /** The origin the client addressed; defaults to `url`'s. */
  readonly origin?: string | undefined
}

/** Who the hub is to one request: the Mercure 1.0 identifiers derived from it, or pinned. */
export interface HubIdentity {
  /** The origin the client addressed (`https://hub.example.com`). */
  origin(request: AddressedRequest): string
  /**
   * [spec] draft-08 §Token validation: the resource identifier a 1.0 token's `aud` must contain.
   * Pinned, or `<scheme>://<host>/.well-known/mercure` of the request.
   */
  resource(request: AddressedRequest): string
  /**
   * The hub URL relative URL patterns and topics resolve against: the pinned identifier when it
   * is the hub's URL (ends with its path), else the one the client addressed.
   */
  hubUrl(request: AddressedRequest): string
  /** [spec] RFC 9728 §3.1: the metadata URL of the resource identifier. */
  metadataUrl(request: AddressedRequest): string
}

/**
 * The identity of a hub whose resource identifier is `pinned`, or derived per request when
 * `undefined`. Derived, a hub reached through several host names expects a different `aud` on
 * each, as the reference hub does; behind a proxy that rewrites the scheme or host, pin it.
 */
export function createHubIdentity(pinned: string | undefined): HubIdentity {
  const origin = (request: AddressedRequest): string => request.origin ?? request.url.origin
  // Clients send the same Host on every request: the hub URL derived from the last origin is kept,
  // so every publish gets the same string, which the reserved-topic test then compares by
  // reference. Built per request, it was a new concatenation each time, flattened and compared
  // character by character there (issue #15).
  let lastOrigin: string | undefined
  let lastDerived = ''
  const derived = (request: AddressedRequest): string => {
    const from = origin(request)
    if (from !== lastOrigin) {
      lastOrigin = from
      lastDerived = `${from}${HUB_PATH}`
    }
    return lastDerived
  }
  const resource = (request: AddressedRequest): string => pinned ?? derived(request)
  return {
    origin,
    resource,
    hubUrl: (request) => (pinned?.endsWith(HUB_PATH) ? pinned : derived(request)),
    metadataUrl: (request) => {
      const url = new URL(resource(request))
      const path = url.pathname === '/' ? '' : url.pathname
      return `${url.origin}/.well-known/oauth-protected-resource${path}`
    },
  }
}

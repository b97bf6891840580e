import type { MercureClaims } from './jwt-verifier.ts'

/**
 * An issuer whose Mercure 1.0 access tokens the hub trusts, bound to its own keys ([spec]
 * draft-08 §Token validation: "each key MUST be bound to an issuer identifier"; with several
 * issuers a token's signature is checked only with the keys of its `iss`, never a pooled set).
 */
export interface TrustedIssuer {
  /** The issuer identifier, compared exactly with a token's `iss`. */
  readonly issuer: string
  /**
   * The key verifying its tokens for both roles: a shared secret, a PEM public key or
   * certificate, or a JWKS URL or file (see `loadKey`). Defaults to the hub's publisher key for
   * publishing and its subscriber key for subscribing.
   */
  readonly key?: string | undefined
  /** The key verifying its publishers' tokens, when not `key`. */
  readonly publisherKey?: string | undefined
  /** The key verifying its subscribers' tokens, when not `key`. */
  readonly subscriberKey?: string | undefined
  /** Its `alg` allow-list. Defaults to what its key type supports (`HS256` for a secret). */
  readonly algorithms?: readonly string[] | undefined
  /** Whether it is an OAuth authorization server, listed in the protected resource metadata. */
  readonly authorizationServer?: boolean | undefined
}

/** What a 1.0 token is checked against, per request. */
export interface AccessTokenContext {
  /** The hub's resource identifier, which `aud` must contain (pinned, or derived per request). */
  readonly audience: string
  /** The hub URL that relative URL patterns in the token's grants resolve against. */
  readonly hubUrl: string
}

/** Verifies Mercure 1.0 access tokens for one role (publishing or subscribing). */
export interface AccessTokenVerifier {
  /**
   * Verifies an RFC 9068 access token and reads its `authorization_details`.
   *
   * @returns Claims with `protocol: '1.0'`: `publish` and `subscribe` selectors (see
   *   `mercure-matcher.ts`) and `subscribePayloads`.
   * @throws {AuthError} 401 `invalid-token` for any token problem, with a message that says which.
   * @throws {JwksUnavailableError} when a JWKS URL cannot be fetched.
   */
  verify(token: string, context: AccessTokenContext): Promise<MercureClaims>
}

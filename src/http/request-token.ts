import type { AccessTokenVerifier } from '../hub/access-token-verifier.ts'
import { AuthError } from '../hub/auth-error.ts'
import { JwksUnavailableError } from '../hub/jwt-keys.ts'
import type { JwtVerifier, MercureClaims } from '../hub/jwt-verifier.ts'
import { type MercureProtocolVersion, tokenProtocol } from '../hub/token-protocol.ts'
import { DEFAULT_ACCESS_TOKEN_COOKIE_NAME, DEFAULT_COOKIE_NAME } from './defaults.ts'
import type { AddressedRequest, HubIdentity } from './hub-identity.ts'
import type { HubLogger } from './hub-logger.ts'
import { createOutageLog, type OutageLog } from './outage-log.ts'
import type { RequestHeaders } from './request-headers.ts'
import { type ExtractedToken, extractToken } from './token-source.ts'

/** The cookies read when none is configured, the request's protocol's first. */
const ACCESS_FIRST = [DEFAULT_ACCESS_TOKEN_COOKIE_NAME, DEFAULT_COOKIE_NAME]
const LEGACY_FIRST = [DEFAULT_COOKIE_NAME, DEFAULT_ACCESS_TOKEN_COOKIE_NAME]

/** The answer for a request without a token. */
const NO_TOKEN: VerifiedToken = Object.freeze({ found: null, claims: null })

/** A request's token, found and verified: both `null` for a request without one. */
export interface VerifiedToken {
  readonly found: ExtractedToken | null
  readonly claims: MercureClaims | null
}

/** What {@link createTokenCheck} needs. */
export interface TokenCheckSettings {
  readonly protocols: ReadonlySet<MercureProtocolVersion>
  /** The one cookie read; `undefined` reads both defaults, the request's protocol's first. */
  readonly cookieName: string | undefined
  readonly publisherVerifier: JwtVerifier
  readonly subscriberVerifier: JwtVerifier
  /** Mercure 1.0 verifiers by role; `null` refuses every 1.0 token. */
  readonly accessTokenVerifiers: {
    readonly publisher: AccessTokenVerifier
    readonly subscriber: AccessTokenVerifier
  } | null
  readonly identity: HubIdentity
  readonly logger: HubLogger
}

/**
 * Finds and verifies a request's token. `speaks` is the request's protocol when its parameters
 * say (subscribe), `null` when the token decides (publish, the subscriptions API).
 */
export type TokenCheck = (
  role: 'publisher' | 'subscriber',
  request: AddressedRequest & { readonly headers: RequestHeaders },
  speaks: MercureProtocolVersion | null,
) => VerifiedToken | Promise<VerifiedToken>

/**
 * Creates the token check of a hub that speaks `protocols`. A token's header says which protocol
 * it is for (see `tokenProtocol`); a 1.0 token then gets every 1.0 check and a 0.x token the 0.x
 * ones: neither is relaxed because the other protocol is on. A 1.0 request takes 1.0 tokens only,
 * from the header or a cookie, never the URL ([spec] draft-08 §Token presentation); a 1.0 token
 * sent in the URL is refused as `invalid_request` rather than ignored, so its sender learns why.
 */
export function createTokenCheck(settings: TokenCheckSettings): TokenCheck {
  const { protocols, cookieName, identity } = settings
  const only = cookieName === undefined ? null : [cookieName]
  const access = settings.accessTokenVerifiers
  // An unreachable key set fails every request alike: one line when it starts, one when it ends.
  const keySetFailures = new Map<JwtVerifier | AccessTokenVerifier, OutageLog>()
  const keySetLog = (verifier: JwtVerifier | AccessTokenVerifier): OutageLog => {
    let log = keySetFailures.get(verifier)
    if (log === undefined) {
      log = createOutageLog({
        logger: settings.logger,
        failing: 'cannot fetch the JWKS',
        recovered: 'the JWKS can be fetched again',
      })
      keySetFailures.set(verifier, log)
    }
    return log
  }
  /** Verifies `found` with `check`, reporting to `keySet` whether its key set could be read. */
  const verifyWith = async (
    keySet: OutageLog,
    check: () => Promise<MercureClaims>,
    found: ExtractedToken,
  ): Promise<VerifiedToken> => {
    try {
      const claims = await check()
      keySet.succeeded()
      return { found, claims }
    } catch (error) {
      if (error instanceof JwksUnavailableError) keySet.failed(error)
      throw error
    }
  }
  // Not async: a token verified less than a minute ago (every publish of a publisher after its
  // first) is answered from the verifier's cache without a promise (issue #15). Refusals throw
  // where they are found; callers await the result either way.
  return (role, request, speaks) => {
    const { url } = request
    const cookies = only ?? (speaks === '0.x' ? LEGACY_FIRST : ACCESS_FIRST)
    const found = extractToken(
      { headers: request.headers, url: `${url.pathname}${url.search}` },
      cookies,
      { query: speaks !== '1.0' && protocols.has('0.x') },
    )
    if (found === null) return NO_TOKEN
    const { token } = found
    if (tokenProtocol(token) === '1.0') {
      if (found.source === 'query') {
        throw new AuthError(
          'malformed',
          'A Mercure 1.0 access token is never accepted in the URL (URLs end up in logs and Referer headers): send it as Authorization: Bearer, or in the cookie.',
        )
      }
      if (!protocols.has('1.0') || access === null) {
        throw new AuthError(
          'invalid-token',
          'This hub does not accept Mercure 1.0 access tokens (typ "at+jwt"): it speaks Mercure 0.x only.',
        )
      }
      const verifier = access[role]
      const context = { audience: identity.resource(request), hubUrl: identity.hubUrl(request) }
      return verifyWith(keySetLog(verifier), () => verifier.verify(token, context), found)
    }
    if (speaks === '1.0') {
      throw new AuthError(
        'invalid-token',
        'A Mercure 1.0 request (match parameters) needs an RFC 9068 access token (typ "at+jwt"), and this token is not one.',
      )
    }
    if (!protocols.has('0.x')) {
      throw new AuthError(
        'invalid-token',
        'This hub speaks Mercure 1.0 only: it accepts RFC 9068 access tokens (typ "at+jwt") with authorization_details.',
      )
    }
    const legacy = role === 'publisher' ? settings.publisherVerifier : settings.subscriberVerifier
    const known = legacy.cached?.(token)
    if (known !== undefined) {
      keySetLog(legacy).succeeded()
      return { found, claims: known }
    }
    return verifyWith(keySetLog(legacy), () => legacy.verify(token), found)
  }
}

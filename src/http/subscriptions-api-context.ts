import type { Hub } from '../hub/hub.ts'
import type { MercureClaims } from '../hub/jwt-verifier.ts'
import type { TopicMatcher } from '../hub/subscriber.ts'
import type { RequestHeaders } from './request-headers.ts'

/** What the subscriptions API needs from the request and the hub. */
export interface SubscriptionsApiContext {
  hub: Hub
  matches: TopicMatcher
  /** The caller's verified claims, or `null` without a token. */
  claims: MercureClaims | null
  /** CORS headers for the response. */
  headers: Readonly<Record<string, string>>
}

/** The parts of a request the subscriptions API reads. */
export interface SubscriptionsApiRequest {
  readonly method: string
  readonly url: URL
  readonly headers: RequestHeaders
}

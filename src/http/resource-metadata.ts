import { type HubAnswer, jsonAnswer, textAnswer } from './hub-answer.ts'

/** [spec] draft-08 §authorization_details: the type of a Mercure grant. */
export const AUTHORIZATION_DETAIL_TYPE = 'https://mercure.rocks/authorization-detail'

/** What the metadata says of a hub: see {@link resourceMetadataAnswer}. */
export interface ResourceMetadata {
  /** The resource identifier (per request or pinned). */
  readonly resource: string
  /** Issuers that are authorization servers; omitted when none (self-issued tokens). */
  readonly authorizationServers: readonly string[]
  /** The cookie a token may come in. */
  readonly cookieName: string
  /** Whether subscription events and the subscriptions API are on. */
  readonly subscriptions: boolean
}

/**
 * [spec] RFC 9728 §3 and draft-08 §Discovery: the protected resource metadata. `resource` is the
 * identifier tokens' `aud` must contain. Only the header is listed as a bearer method: the cookie
 * is a Mercure extension, named in `mercure_cookie`. Both matcher types are listed, which meets
 * both the spec's "SHOULD advertise" and its "optional when only the two".
 */
export function resourceMetadataAnswer(
  method: string,
  metadata: ResourceMetadata,
  headers: Record<string, string>,
): HubAnswer {
  if (method !== 'GET' && method !== 'HEAD') {
    return textAnswer(405, `${method} is not allowed: GET the metadata.\n`, {
      ...headers,
      allow: 'GET, HEAD',
    })
  }
  const document: Record<string, unknown> = { resource: metadata.resource }
  if (metadata.authorizationServers.length > 0) {
    document['authorization_servers'] = metadata.authorizationServers
  }
  document['authorization_details_types_supported'] = [AUTHORIZATION_DETAIL_TYPE]
  document['bearer_methods_supported'] = ['header']
  document['mercure_cookie'] = metadata.cookieName
  document['mercure_matcher_types_supported'] = ['exact', 'urlpattern']
  if (metadata.subscriptions) document['mercure_subscriptions'] = true
  const answer = jsonAnswer(200, document, { ...headers, 'cache-control': 'max-age=300' })
  return method === 'HEAD' ? { ...answer, body: null } : answer
}

import { AuthError } from '../hub/auth-error.ts'
import { describeSelector } from '../hub/mercure-matcher.ts'
import {
  MERCURE_CONTEXT,
  SUBSCRIPTIONS_PATH,
  subscriptionDocument,
} from '../hub/subscription-events.ts'
import { type HubAnswer, textAnswer } from './hub-answer.ts'
import type {
  SubscriptionsApiContext,
  SubscriptionsApiRequest,
} from './subscriptions-api-context.ts'
import { subscriptionsAnswerV1 } from './subscriptions-api-v1.ts'

export type { SubscriptionsApiContext, SubscriptionsApiRequest }

/**
 * The active subscriptions API, in the protocol of the caller's token. With a 0.x token (Mercure
 * draft-07): `GET /.well-known/mercure/subscriptions`, `…/{topic}` and `…/{topic}/{subscriber}`,
 * as JSON-LD, with a root `lastEventID` the client can subscribe from so that it misses no change
 * after the snapshot, and `ETag`/`If-None-Match`. With a 1.0 token: `…/{match_type}/{match}` and
 * `…/{match_type}/{match}/{subscriber}` as plain JSON (see `subscriptions-api-v1.ts`). Both list
 * the hub's directory (with a store shared by several nodes, every node's subscriptions), each
 * subscription in its shape: a 1.0 one's `topic` is its matcher value; a 0.x URI Template has no
 * 1.0 form. Resolves the answer, or `null` when the path is not the API's.
 *
 * @throws {AuthError} 401 without a token, 403 when no `subscribe` selector matches the request
 *   path.
 */
export async function subscriptionsAnswer(
  request: SubscriptionsApiRequest,
  context: SubscriptionsApiContext,
): Promise<HubAnswer | null> {
  const path = request.url.pathname
  if (path !== SUBSCRIPTIONS_PATH && !path.startsWith(`${SUBSCRIPTIONS_PATH}/`)) return null
  const { hub, matches, claims, headers } = context
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return textAnswer(405, 'The subscriptions API is read-only: use GET.\n', {
      ...headers,
      allow: 'GET, HEAD',
    })
  }
  if (claims === null) {
    throw new AuthError(
      'missing-token',
      'The subscriptions API requires a token with a mercure.subscribe claim.',
    )
  }
  if (claims.protocol === '1.0') return subscriptionsAnswerV1(request, context)
  // [spec] the requested URL must match one of the mercure.subscribe selectors.
  if (!(claims.subscribe ?? []).some((selector) => matches(selector, path))) {
    throw new AuthError(
      'insufficient-scope',
      `The token's mercure.subscribe claim does not allow ${JSON.stringify(path)} (e.g. add "${SUBSCRIPTIONS_PATH}{/topic}{/subscriber}").`,
    )
  }

  const segments = path.slice(SUBSCRIPTIONS_PATH.length).split('/').slice(1)
  let selector: string | undefined
  let subscriberId: string | undefined
  try {
    selector =
      segments[0] === undefined || segments[0] === '' ? undefined : decodeURIComponent(segments[0])
    subscriberId = segments[1] === undefined ? undefined : decodeURIComponent(segments[1])
  } catch {
    return textAnswer(400, 'The subscription path is not valid percent-encoding.\n', headers)
  }
  if (segments.length > 2 || subscriberId === '') {
    return textAnswer(404, `Nothing here: ${path}.\n`, headers)
  }

  // Read before the listing: a change after it is then in the listing or after lastEventID.
  const lastEventID = hub.lastEventId
  const active = await hub.directory.listSubscriptions()
  const etag = `"${lastEventID.replace(/["\\]/g, '')}"`
  const respond = (document: Record<string, unknown>): HubAnswer => {
    const common = { ...headers, etag, 'cache-control': 'must-revalidate' }
    const ifNoneMatch = request.headers['if-none-match']
    const tags = typeof ifNoneMatch === 'string' ? ifNoneMatch.split(',') : []
    if (tags.some((tag) => [etag, lastEventID].includes(tag.trim()))) {
      return { status: 304, headers: common, body: null }
    }
    // A HEAD is answered with the body's headers; the framework sends no body.
    return {
      status: 200,
      headers: { ...common, 'content-type': 'application/ld+json' },
      body: JSON.stringify(document),
    }
  }

  // A 1.0 subscription's topic is its matcher value (a URL pattern's text), without the marks.
  const topicOf = (subscription: { topic: string }): string =>
    describeSelector(subscription.topic).match
  if (subscriberId !== undefined && selector !== undefined) {
    for (const subscription of active) {
      if (subscription.subscriber !== subscriberId || topicOf(subscription) !== selector) continue
      const { payload, ...rest } = subscriptionDocument(subscription, true)
      return respond({ ...rest, lastEventID, ...(payload === undefined ? {} : { payload }) })
    }
    return textAnswer(404, 'No active subscription with this topic and subscriber.\n', headers)
  }

  const subscriptions: Record<string, unknown>[] = []
  for (const subscription of active) {
    if (selector === undefined || topicOf(subscription) === selector)
      subscriptions.push(subscriptionDocument(subscription, true, false))
  }
  return respond({
    '@context': MERCURE_CONTEXT,
    id: path,
    type: 'Subscriptions',
    lastEventID,
    subscriptions,
  })
}

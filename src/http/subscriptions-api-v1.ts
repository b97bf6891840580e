import { AuthError, quote } from '../hub/auth-error.ts'
import { isMatchType, type Matcher } from '../hub/mercure-matcher.ts'
import type { ActiveSubscription } from '../hub/subscription-directory.ts'
import { HUB_PATH, SUBSCRIPTIONS_PATH } from '../hub/subscription-events.ts'
import { subscriptionDocumentV1, subscriptionMatcher } from '../hub/subscription-events-v1.ts'
import { type HubAnswer, textAnswer } from './hub-answer.ts'
import { utf8HeaderValue } from './last-event-id.ts'
import type {
  SubscriptionsApiContext,
  SubscriptionsApiRequest,
} from './subscriptions-api-context.ts'

/**
 * The Mercure 1.0 subscriptions API (draft-dunglas-mercure-08 §Subscription API), for a caller
 * with a 1.0 token: `GET /.well-known/mercure/subscriptions`, `…/{match_type}/{match}` and
 * `…/{match_type}/{match}/{subscriber}`, as `application/json`. A single subscription is exactly
 * its subscription event's document (see `subscription-events-v1.ts`); a collection is
 * `{id, type: "subscriptions", subscriptions}`, `id` the request path. The cursor to subscribe
 * from is in the `Link` header (`rel="mercure"; last-event-id="…"`), and again as the `ETag`
 * (`304` on an exact `If-None-Match`). A 0.x URI Template subscription has no 1.0 form and is not
 * listed. `subscriptions-api.ts` calls it once the method and the token are checked.
 *
 * @returns 404 for an unknown subscription or path, 400 for an unknown `match_type` or bad
 *   percent-encoding.
 * @throws {AuthError} 403 (`insufficient-scope`) when no `subscribe` selector of the token
 *   matches the request path.
 */
export async function subscriptionsAnswerV1(
  request: SubscriptionsApiRequest,
  context: SubscriptionsApiContext,
): Promise<HubAnswer> {
  const { hub, matches, claims, headers } = context
  // [spec] "the topic to authorize is the request's absolute path, in relative form, without the
  // query string": the same form as the events' topics, so one grant covers both.
  const path = request.url.pathname
  if (!(claims?.subscribe ?? []).some((selector) => matches(selector, path))) {
    throw new AuthError(
      'insufficient-scope',
      `The token grants no subscribe on ${quote(path)} (e.g. the urlpattern "${SUBSCRIPTIONS_PATH}{/*}?").`,
    )
  }

  const wanted = parsePath(path)
  if (wanted === 'not-found') return textAnswer(404, `Nothing here: ${path}.\n`, headers)
  if (wanted === 'bad-type') {
    return textAnswer(400, 'The match type is not exact or urlpattern.\n', headers)
  }
  if (wanted === 'bad-encoding') {
    return textAnswer(400, 'The subscription path is not valid percent-encoding.\n', headers)
  }

  // Read before the listing: a change after it is then in the listing or after the cursor.
  const lastEventId = hub.lastEventId
  const active = await hub.directory.listSubscriptions()
  const documents: Record<string, unknown>[] = []
  for (const subscription of active) {
    const matcher = subscriptionMatcher(subscription.topic)
    if (matcher === null || !selected(wanted, subscription, matcher)) continue
    documents.push(subscriptionDocumentV1(subscription, matcher, true))
  }

  const etag = utf8HeaderValue(`"${escapeEntityTag(lastEventId)}"`)
  const common = {
    ...headers,
    link: utf8HeaderValue(
      `<${HUB_PATH}>; rel="mercure"; last-event-id="${quotedString(lastEventId)}"; type="mercure"; content-type="application/json"`,
    ),
    etag,
    'cache-control': 'must-revalidate',
  }
  if (wanted.subscriber !== undefined && documents.length === 0) {
    return textAnswer(404, 'No active subscription with this matcher and subscriber.\n', common)
  }
  const ifNoneMatch = request.headers['if-none-match']
  if (typeof ifNoneMatch === 'string' && ifNoneMatch.split(',').some((t) => t.trim() === etag)) {
    return { status: 304, headers: common, body: null }
  }
  const body =
    wanted.subscriber !== undefined
      ? documents[0]
      : { id: path, type: 'subscriptions', subscriptions: documents }
  // A HEAD is answered with the body's headers; the framework sends no body.
  return {
    status: 200,
    headers: { ...common, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  }
}

/** What a request path asks for: every subscription, one matcher's, or one subscription. */
interface Wanted {
  readonly matcher?: Matcher
  readonly subscriber?: string
}

/** Reads `/subscriptions`, `…/{match_type}/{match}` or `…/{match_type}/{match}/{subscriber}`. */
function parsePath(path: string): Wanted | 'not-found' | 'bad-type' | 'bad-encoding' {
  if (path === SUBSCRIPTIONS_PATH) return {}
  const segments = path.slice(SUBSCRIPTIONS_PATH.length + 1).split('/')
  if (segments.length < 2 || segments.length > 3 || segments.includes('')) return 'not-found'
  const [type, match, subscriber] = segments as [string, string, string | undefined]
  // [spec] "{match_type} is the canonical-case type name": `Exact` names no type.
  if (!isMatchType(type)) return 'bad-type'
  try {
    const matcher = { type, match: decodeURIComponent(match) }
    if (subscriber === undefined) return { matcher }
    return { matcher, subscriber: decodeURIComponent(subscriber) }
  } catch {
    return 'bad-encoding'
  }
}

function selected(wanted: Wanted, subscription: ActiveSubscription, matcher: Matcher): boolean {
  const { matcher: want, subscriber } = wanted
  if (want !== undefined && (want.type !== matcher.type || want.match !== matcher.match)) {
    return false
  }
  return subscriber === undefined || subscription.subscriber === subscriber
}

/**
 * `value` inside an RFC 9110 quoted-string: `"` and `\` escaped. A control character other than
 * HTAB cannot be sent in a header at all (response splitting, CWE-113): it is percent-encoded,
 * so such an id (which a 1.0 publisher cannot use) does not come back as it was.
 */
function quotedString(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it encodes.
  return value.replace(/["\\]/g, '\\$&').replace(/[\u0000-\u0008\u000a-\u001f\u007f]/g, percent)
}

/** `value` as an entity tag's opaque part: space, `"`, `%`, controls and DEL percent-encoded. */
function escapeEntityTag(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it encodes.
  return value.replace(/[\u0000-\u0020"%\u007f]/g, percent)
}

function percent(char: string): string {
  return `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`
}

/**
 * Reads the grants of a Mercure 1.0 access token from its `authorization_details` claim
 * (RFC 9396; draft-dunglas-mercure-08 §Authorization details), as topic selectors.
 *
 * @module
 */

import { accepted, type Checked, refused } from './checked.ts'
import {
  checkMatchValue,
  isMatchType,
  MAX_MATCH_LENGTH,
  type MatchType,
  matcherSelector,
} from './mercure-matcher.ts'
import type { SubscribePayload } from './subscriber.ts'
import { compileUrlPattern } from './url-pattern.ts'

/** The `type` of a Mercure authorization detail, compared byte for byte. */
export const MERCURE_DETAIL_TYPE = 'https://mercure.rocks/authorization-detail'

/** Most Mercure details a token may hold, as the reference hub (DoS guard). */
export const MAX_MERCURE_DETAILS = 100

/**
 * Most topic matchers a token may hold, summed across its Mercure details, as the reference hub
 * (DoS guard: each is matched against every update's topics, and a URL pattern is compiled).
 */
export const MAX_TOKEN_MATCHERS = 100

/** What a token's Mercure details grant. */
export interface DetailGrants {
  /** Selectors of every detail whose `actions` include `publish`; `undefined` when none does. */
  readonly publish: string[] | undefined
  /** Selectors of every detail whose `actions` include `subscribe`; `undefined` when none does. */
  readonly subscribe: string[] | undefined
  /** Each `subscribe` detail's selectors and `payload`, in the token's order. */
  readonly subscribePayloads: SubscribePayload[]
}

/** A JSON object, as a token's claims decode; the members read here. */
interface JsonObject {
  readonly type?: unknown
  readonly actions?: unknown
  readonly topics?: unknown
  readonly payload?: unknown
  readonly match?: unknown
  readonly match_type?: unknown
}

const CLAIM = 'authorization_details'

/**
 * Reads an `authorization_details` claim. Details of other types are ignored; a token without a
 * Mercure detail (or without the claim) grants nothing. A Mercure detail that fails to parse or
 * validate refuses the whole token (draft-08 S:727-733: no partial acceptance), so a grant its
 * issuer meant to narrow can never survive as a broader one.
 *
 * @param value The claim's value (`undefined` when absent; `null` grants nothing, like absent).
 * @param hubUrl The hub URL that relative URL patterns resolve against.
 * @returns The grants, or why the token is refused, as a message for a 401 `invalid_token` that
 *   names the failing member and quotes no value.
 */
export function readAuthorizationDetails(value: unknown, hubUrl: string): Checked<DetailGrants> {
  const publish: string[] = []
  const subscribe: string[] = []
  const subscribePayloads: SubscribePayload[] = []
  if (value !== undefined && value !== null) {
    if (!Array.isArray(value)) return refused(`The token's ${CLAIM} claim must be an array.`)
    let details = 0
    let matchers = 0
    for (const [index, entry] of (value as unknown[]).entries()) {
      const where = `${CLAIM}[${index}]`
      // RFC 9396 §2: the claim is an array of objects, each naming its `type`.
      if (!isObject(entry)) return refused(`The token's ${where} is not a JSON object.`)
      if (entry.type !== MERCURE_DETAIL_TYPE) continue
      if (++details > MAX_MERCURE_DETAILS) {
        return refused(`The token holds more than ${MAX_MERCURE_DETAILS} Mercure details.`)
      }
      const topics = entry.topics
      if (Array.isArray(topics)) {
        // Counted before this detail's matchers are read: past the cap, no more are compiled.
        matchers += topics.length
        if (matchers > MAX_TOKEN_MATCHERS) {
          return refused(
            `The token holds more than ${MAX_TOKEN_MATCHERS} topic matchers across its Mercure details.`,
          )
        }
      }
      const detail = readDetail(entry, where, hubUrl)
      if (!detail.ok) return detail
      const { actions, selectors, payload } = detail.value
      if (actions.includes('publish')) publish.push(...selectors)
      if (actions.includes('subscribe')) {
        subscribe.push(...selectors)
        subscribePayloads.push({ selectors, payload })
      }
    }
  }
  return accepted({
    // A detail has at least one matcher, so an empty list means no detail grants the action.
    publish: publish.length > 0 ? publish : undefined,
    subscribe: subscribe.length > 0 ? subscribe : undefined,
    subscribePayloads,
  })
}

/** One Mercure detail, read: its actions (unknown ones included), selectors and payload. */
interface Detail {
  readonly actions: readonly string[]
  readonly selectors: string[]
  readonly payload: unknown
}

function readDetail(entry: JsonObject, where: string, hubUrl: string): Checked<Detail> {
  const actions = entry.actions
  // draft-08 S:707-714: a non-empty array of strings; unknown actions grant nothing, but a
  // non-string one is a validation failure.
  if (!Array.isArray(actions) || actions.length === 0) {
    return refused(`The token's ${where}.actions must be a non-empty array of strings.`)
  }
  const action = actions.findIndex((name) => typeof name !== 'string')
  if (action !== -1) {
    return refused(`The token's ${where}.actions[${action}] is not a string.`)
  }
  const topics = entry.topics
  if (!Array.isArray(topics) || topics.length === 0) {
    return refused(`The token's ${where}.topics must be a non-empty array of topic matchers.`)
  }
  const selectors: string[] = []
  for (const [index, topic] of (topics as unknown[]).entries()) {
    const selector = readMatcher(topic, `${where}.topics[${index}]`, hubUrl)
    if (!selector.ok) return selector
    selectors.push(selector.value)
  }
  const payload = entry.payload
  // draft-08 S:717: a JSON object. The reference hub takes any JSON value; the spec wins, so the
  // subscriptions API and subscription events always carry an object or nothing.
  if (payload !== undefined && !isObject(payload)) {
    return refused(`The token's ${where}.payload must be a JSON object.`)
  }
  return accepted({ actions: actions as string[], selectors, payload })
}

/** A `topics` entry: `{ match, match_type? }`, as a selector (see `mercure-matcher.ts`). */
function readMatcher(topic: unknown, where: string, hubUrl: string): Checked<string> {
  // draft-08 S:830-846: a non-object entry, such as a 0.x-style bare string, rejects the token
  // rather than being read as some matcher its issuer may not have meant.
  if (!isObject(topic)) {
    return refused(`The token's ${where} must be a topic matcher object ({"match": …}).`)
  }
  const match = topic.match
  if (typeof match !== 'string' || match === '') {
    return refused(`The token's ${where}.match must be a non-empty string.`)
  }
  const problem = checkMatchValue(match, `The token's ${where}.match`, MAX_MATCH_LENGTH)
  if (problem !== null) return refused(problem)
  const name = topic.match_type
  let type: MatchType = 'exact'
  if (name !== undefined) {
    // draft-08 S:830-846: case-sensitive, and an unsupported type rejects the token: skipping
    // the matcher would drop a grant, and guessing its meaning could widen one.
    if (typeof name !== 'string' || !isMatchType(name)) {
      return refused(`The token's ${where}.match_type is not a supported matcher type.`)
    }
    type = name
  }
  // `*` is the wildcard whatever the type (draft-08 S:830-846), so it is never compiled.
  if (type === 'urlpattern' && match !== '*') {
    const compiled = compileUrlPattern(match, hubUrl)
    if (!compiled.ok) return refused(`The token's ${where}.match: ${compiled.message}`)
  }
  return accepted(matcherSelector({ type, match }, hubUrl))
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

import {
  checkMatchValue,
  isMatchType,
  type MatchType,
  matcherSelector,
} from '../hub/mercure-matcher.ts'
import type { MercureProtocolVersion } from '../hub/token-protocol.ts'
import { checkSelector } from '../hub/topic-selector.ts'
import type { FormFields } from '../hub/url-encoded-form.ts'
import { compileUrlPattern } from '../hub/url-pattern.ts'

/** A subscribe request's parameters, read: see {@link readSubscribeParameters}. */
export interface SubscribeParameters {
  /** The protocol the request speaks: `1.0` with `match*` parameters, `0.x` with `topic`. */
  readonly protocol: MercureProtocolVersion
  /** Its selectors: `topic` values (0.x), or its matchers written as selectors (1.0). */
  readonly selectors: readonly string[]
  /** The `last_event_id` (1.0), or the first of 0.x's spellings, from the query (then the body). */
  readonly lastEventId: string | undefined
  /** `?cursor=1`: the id-only block at connect (see `SubscribeRequest.sendCursor`). */
  readonly sendCursor: boolean
  /** `?gap=1`: the gap block on a resume the history cannot serve (see `SubscribeRequest.signalGap`). */
  readonly signalGap: boolean
}

/** Values of the `cursor` and `gap` parameters that turn them on. */
const ON = new Set(['1', 'true', 'yes'])

/**
 * The 0.x spellings of the resume parameter, in order: draft-07's, draft-08's, and
 * event-source-polyfill's defaults (ignoring those loses every update published while it
 * reconnects). A 1.0 request has `last_event_id` only, as the reference hub.
 */
const LEGACY_CURSOR_NAMES = ['lastEventID', 'last_event_id', 'lastEventId', 'Last-Event-ID']

/**
 * Reads the parameters of a subscribe request, from its query and (for `QUERY`) its form body,
 * as one set ([spec] draft-08 §Subscription: "as if they were one component"; for the
 * single-valued `last_event_id`, the query's value wins).
 *
 * The protocol is the one its parameters speak ([spec] draft-08 §Topic matchers): `match`
 * (exact), `match_exact` and `match_urlpattern`; every other name that starts with `match` in any
 * case (`Match`, `matches`, `match_regex`) is reserved and gets a 400, as does mixing them with
 * 0.x's `topic`. 1.0 values must be UTF-8 without C0, C1, DEL or `Cf` characters, and a URL pattern
 * must compile (against `hubUrl`).
 *
 * @returns The parameters, or the message of a 400 (it never quotes a value).
 */
export function readSubscribeParameters(
  query: FormFields,
  body: FormFields | null,
  settings: {
    protocols: ReadonlySet<MercureProtocolVersion>
    /** The hub URL relative URL patterns resolve against. */
    hubUrl: string
    /** Most matcher or `topic` parameters. */
    maxSelectors: number
  },
): SubscribeParameters | string {
  const all = (name: string): readonly string[] => {
    const fromQuery = query.get(name) ?? []
    const fromBody = body?.get(name)
    return fromBody === undefined ? fromQuery : [...fromQuery, ...fromBody]
  }
  const first = (name: string): string | undefined => all(name)[0]
  const matchers: Array<{ type: MatchType; match: string }> = []
  for (const fields of body === null ? [query] : [query, body]) {
    for (const [name, values] of fields) {
      if (!/^match/i.test(name)) continue
      const type = name === 'match' ? 'exact' : name.startsWith('match_') ? name.slice(6) : ''
      if (!isMatchType(type)) {
        return `Unknown parameter ${JSON.stringify(name.slice(0, 40))}: names starting with "match" are reserved for topic matchers, and this hub supports match (exact), match_exact and match_urlpattern.`
      }
      for (const match of values) matchers.push({ type, match })
    }
  }
  const topics = all('topic')
  const flag = (name: string) => ON.has(first(name) ?? '')
  if (matchers.length > 0) {
    if (!settings.protocols.has('1.0')) {
      return 'This hub speaks Mercure 0.x only: subscribe with ?topic=<topic, URI template or *>.'
    }
    if (topics.length > 0) {
      return 'Subscribe with Mercure 1.0 matchers (match, match_urlpattern) or with 0.x "topic" parameters, not both.'
    }
    if (matchers.length > settings.maxSelectors) {
      return `Too many matcher parameters: ${matchers.length}, at most ${settings.maxSelectors}.`
    }
    const selectors: string[] = []
    for (const matcher of matchers) {
      const name = matcher.type === 'exact' ? 'match' : `match_${matcher.type}`
      const problem = checkMatchValue(matcher.match, `A "${name}" value`)
      if (problem !== null) return problem
      if (matcher.type === 'urlpattern' && matcher.match !== '*') {
        const compiled = compileUrlPattern(matcher.match, settings.hubUrl)
        if (!compiled.ok)
          return `A "match_urlpattern" value is not a URL pattern: ${compiled.message}`
      }
      selectors.push(matcherSelector(matcher, settings.hubUrl))
    }
    return {
      protocol: '1.0',
      selectors,
      lastEventId: first('last_event_id'),
      sendCursor: flag('cursor'),
      signalGap: flag('gap'),
    }
  }
  if (topics.length === 0) {
    return settings.protocols.has('1.0')
      ? settings.protocols.has('0.x')
        ? 'Missing topic matcher: subscribe with ?match=<topic> or ?match_urlpattern=<URL pattern> (Mercure 1.0), or ?topic=<topic, URI template or *> (0.x).'
        : 'Missing topic matcher: subscribe with ?match=<topic> or ?match_urlpattern=<URL pattern>.'
      : 'Missing "topic" parameter: subscribe with ?topic=<topic, URI template or *>.'
  }
  if (!settings.protocols.has('0.x')) {
    return 'This hub speaks Mercure 1.0 only: subscribe with ?match=<topic> or ?match_urlpattern=<URL pattern>, not "topic".'
  }
  if (topics.length > settings.maxSelectors) {
    return `Too many "topic" parameters: ${topics.length}, at most ${settings.maxSelectors}.`
  }
  for (const selector of topics) {
    const problem = checkSelector(selector)
    if (problem !== null) return `Invalid "topic" parameter: ${problem}`
  }
  let lastEventId: string | undefined
  for (const name of LEGACY_CURSOR_NAMES) {
    lastEventId = first(name)
    if (lastEventId !== undefined) break
  }
  return {
    protocol: '0.x',
    selectors: topics,
    lastEventId,
    sendCursor: flag('cursor'),
    signalGap: flag('gap'),
  }
}

/**
 * Mercure 1.0 topic matchers (draft-dunglas-mercure-08 §Topic matchers) as topic selectors.
 *
 * The hub matches, indexes and authorizes with topic selectors: strings, as Mercure 0.x sends them
 * (`*`, an exact topic, or an RFC 6570 URI Template when it contains `{`). A 1.0 matcher is a
 * (type, value) pair: `exact` compares byte for byte, never as a template; `urlpattern` is a WHATWG
 * URL Pattern resolved against the hub URL. Both are written here as selectors the rest of the hub
 * carries unchanged, so a 0.x and a 1.0 subscriber of one topic share one index entry and one
 * authorization rule:
 *
 * - `*`, whatever the type ([spec] "recognised before the matcher type");
 * - an exact value with no `{`: the value itself, exactly what a 0.x selector of it means;
 * - an exact value with a `{`: {@link EXACT_MARK} then the value (a 0.x selector would be a
 *   template);
 * - a URL pattern: {@link URL_PATTERN_MARK}, the hub URL it resolves against, the mark again, the
 *   pattern.
 *
 * The marks are control characters, which no selector from a request or a token may hold (see
 * `checkSelector` and {@link checkMatchValue}), so no client can forge one.
 *
 * @module
 */

/** The matcher types of Mercure 1.0, canonical names. Hubs MUST support both. */
export const MATCH_TYPES = ['exact', 'urlpattern'] as const

/** A Mercure 1.0 matcher type. */
export type MatchType = (typeof MATCH_TYPES)[number]

/** A Mercure 1.0 topic matcher: what a `match*` parameter or a token's `topics` entry says. */
export interface Matcher {
  readonly type: MatchType
  /** The value: a topic (`exact`), a URL pattern (`urlpattern`), or `*`. */
  readonly match: string
}

/** Starts a selector that holds an exact 1.0 value containing `{` (never a template). */
export const EXACT_MARK = '\u0001'

/** Starts (and separates the hub URL from the pattern in) a URL Pattern selector. */
export const URL_PATTERN_MARK = '\u0002'

/** Longest matcher value, in UTF-16 code units: longer ones get a 400 (or `invalid_token`). */
export const MAX_MATCH_LENGTH = 2048

/** Whether `name` is a supported matcher type. */
export function isMatchType(name: string): name is MatchType {
  return name === 'exact' || name === 'urlpattern'
}

/**
 * The selector for `matcher`. `hubUrl` is the hub URL relative URL patterns (and the topics they
 * are tested against) resolve against; it is not used for other types.
 */
export function matcherSelector(matcher: Matcher, hubUrl: string): string {
  const { type, match } = matcher
  if (match === '*') return '*'
  if (type === 'exact') return match.includes('{') ? `${EXACT_MARK}${match}` : match
  return `${URL_PATTERN_MARK}${hubUrl}${URL_PATTERN_MARK}${match}`
}

/** What a selector stands for, parsed back: see {@link describeSelector}. */
export interface SelectorParts {
  /** `template` only for a 0.x selector that may be a URI Template (it contains `{`). */
  readonly type: MatchType | 'template'
  /** The value as the client sent it (without the marks and hub URL). */
  readonly match: string
  /** The hub URL a URL pattern resolves against. */
  readonly hubUrl?: string
}

/**
 * Reads a selector back: a 1.0 matcher's type and value, or for a 0.x selector, `exact` (`*`, or a
 * value with no `{`) or `template`. For subscription events, the subscriptions API and logs.
 */
export function describeSelector(selector: string): SelectorParts {
  const first = selector.charAt(0)
  if (first === EXACT_MARK) return { type: 'exact', match: selector.slice(1) }
  if (first === URL_PATTERN_MARK) {
    const end = selector.indexOf(URL_PATTERN_MARK, 1)
    return {
      type: 'urlpattern',
      match: selector.slice(end + 1),
      hubUrl: selector.slice(1, end),
    }
  }
  return { type: selector.includes('{') ? 'template' : 'exact', match: selector }
}

/**
 * [spec] "Values MUST be valid UTF-8, with no C0 (U+0000–001F), no C1 (U+0080–009F), no U+007F and
 * no Unicode Cf characters." The same rule holds for topics, ids and types, so a bidi override
 * (U+202E) or a zero-width joiner cannot make two different topics look alike in a log or a UI.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\p{Cf}]/u

/** A UTF-16 surrogate without its pair: a string that no UTF-8 can encode. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/**
 * Checks a matcher value (or a topic, id or type) against the 1.0 character rules: no C0, C1,
 * DEL or `Cf` character, no lone surrogate (not UTF-8), and at most `maxLength` code units.
 *
 * @returns What is wrong, as a message that never quotes the value; `null` when it is fine.
 */
export function checkMatchValue(
  value: string,
  what = 'A matcher value',
  maxLength = MAX_MATCH_LENGTH,
): string | null {
  if (value.length > maxLength) return `${what} is longer than ${maxLength} characters.`
  if (FORBIDDEN.test(value)) {
    return `${what} contains a control or invisible formatting character (Unicode C0, C1, DEL or Cf).`
  }
  if (LONE_SURROGATE.test(value)) return `${what} is not valid UTF-8 (it holds a lone surrogate).`
  return null
}

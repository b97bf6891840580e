import { checkMatchValue } from './mercure-matcher.ts'
import type { Update } from './update.ts'

/** `%XX` escapes of the characters RFC 3986 calls unreserved, which a URL means either way. */
const UNRESERVED_ESCAPE =
  /%(2[dD]|2[eE]|3[0-9]|4[1-9a-fA-F]|5[0-9aA]|5[fF]|6[1-9a-fA-F]|7[0-9aA]|7[eE])/g

/** A hub URL as the reserved-namespace test reads it. */
interface HubPath {
  readonly text: string
  readonly url: URL
  /** Its path, and that path as a prefix of the paths below it. */
  readonly path: string
  readonly below: string
  /** The last segment of its path (`mercure`): a topic without it (or an escape) is not below. */
  readonly segment: string
}

/** The last hub URL read: a hub has one, or a few when its identifier is derived per request. */
let lastHub: HubPath | null = null

function hubPathOf(text: string): HubPath {
  if (lastHub?.text === text) return lastHub
  const url = new URL(text)
  const path = url.pathname
  const below = path.endsWith('/') ? path : `${path}/`
  const segment = path.slice(path.lastIndexOf('/', path.length - 2) + 1).replace(/\/$/, '')
  lastHub = { text, url, path, below, segment }
  return lastHub
}

/**
 * Whether `topic` addresses the hub's own namespace, which no publisher may use ([spec]
 * draft-08 §Topics: the topic is resolved against the hub URL with the WHATWG URL parser, its
 * dot-segments removed and its escapes of unreserved characters decoded; it is reserved when its
 * path is the hub's path or below it, whatever its scheme or authority).
 *
 * The attack: subscription events are hub-generated updates on topics under the hub path. A
 * publisher who could publish there would forge them (a subscriber "joining", with a payload of
 * its choosing), also through spellings a substring test misses: `/.well-known/%6Dercure/…`,
 * `/x/../.well-known/mercure/…`, `mercure/subscriptions/…` (relative to the hub URL), or another
 * host's URL with the hub's path. A topic that is no URL reference is not reserved.
 */
export function isReservedTopic(topic: string, hubUrl: string): boolean {
  let hub: HubPath
  try {
    hub = hubPathOf(hubUrl)
  } catch {
    return false
  }
  // Most topics need no parse (a URL parse per topic is most of the cost of this test): only one
  // that names the hub path's last segment, holds an escape, or is a reference to the hub URL
  // itself (empty, a query or a fragment only) can resolve under it.
  const first = topic.charAt(0)
  if (
    topic !== '' &&
    first !== '?' &&
    first !== '#' &&
    !topic.includes('%') &&
    !topic.includes(hub.segment)
  ) {
    return false
  }
  let url: URL
  try {
    url = new URL(topic, hub.url)
  } catch {
    return false
  }
  const path = url.pathname.replace(UNRESERVED_ESCAPE, (percent) =>
    String.fromCharCode(Number.parseInt(percent.slice(1), 16)),
  )
  return path === hub.path || path.startsWith(hub.below)
}

/**
 * The Mercure 1.0 rules for an update that `parsePublishForm` accepted ([spec] draft-08
 * §Publication): topics not reserved (see {@link isReservedTopic}) and not `*`; topics, `id` and
 * `type` without C0, C1, DEL or Unicode `Cf` characters; `type` not `mercure` (the hub's own
 * events). Every violation is a 400, whatever the token grants.
 *
 * @returns What is wrong, as a message for the publisher; `null` when the update may go.
 */
export function checkUpdateRules(update: Update, hubUrl: string): string | null {
  for (const topic of update.topics) {
    if (topic === '*') {
      return 'The topic "*" is not addressable: it is the wildcard that matches every topic.'
    }
    const problem = checkMatchValue(topic, 'A "topic"', Number.POSITIVE_INFINITY)
    if (problem !== null) return problem
    if (isReservedTopic(topic, hubUrl)) {
      return `A topic resolves under the hub's path (${hubPathOf(hubUrl).path}), which is reserved for the hub's own events (the empty topic and "mercure" resolve there too).`
    }
  }
  const id = checkMatchValue(update.id, 'The "id"', Number.POSITIVE_INFINITY)
  if (id !== null) return id
  if (update.type !== undefined) {
    const type = checkMatchValue(update.type, 'The "type"', Number.POSITIVE_INFINITY)
    if (type !== null) return type
  }
  return checkEventType(update)
}

/**
 * The one rule of {@link checkUpdateRules} that also binds 0.x publishers on a hub that speaks
 * 1.0: `type=mercure` would forge the hub's subscription events and gap blocks for 1.0 listeners.
 */
export function checkEventType(update: Update): string | null {
  if (update.type === 'mercure') {
    return 'The "type" "mercure" is reserved for the hub\'s own events (subscription events).'
  }
  return null
}

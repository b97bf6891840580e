import { WEBHOOK_EVENT_KINDS, type WebhookEventKind } from './webhook-event.ts'

/** A webhook URL read: where to POST, and which events. */
export interface WebhookUrl {
  /** The URL without its fragment. */
  readonly url: string
  /** The events it takes: those its fragment names, or all. */
  readonly events: ReadonlySet<WebhookEventKind>
  /** Its scheme, host and port, for logs and metrics: never its path or query. */
  readonly origin: string
  /** Plain `http:` to a host that is not loopback: events would cross the network unencrypted. */
  readonly insecure: boolean
}

/**
 * Reads a webhook URL: `http:` or `https:`, its fragment (which HTTP never sends) naming the
 * events it takes, comma-separated: `https://app.example/hooks/presence#unsubscribe,node-lost`.
 * No fragment: every event.
 *
 * @throws {TypeError} saying what is wrong, without quoting the URL (it may hold a token).
 */
export function parseWebhookUrl(text: string): WebhookUrl {
  let parsed: URL
  try {
    parsed = new URL(text)
  } catch {
    throw new TypeError('is not an absolute URL, such as "https://app.example/hooks/presence"')
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`must be an http: or https: URL, not ${parsed.protocol}`)
  }
  if (parsed.username !== '' || parsed.password !== '') {
    throw new TypeError(
      'holds credentials (user:password@): they would be logged and sent in clear; the signature authenticates the hub',
    )
  }
  const fragment = parsed.hash.slice(1)
  const events = new Set<WebhookEventKind>()
  for (const name of fragment === '' ? WEBHOOK_EVENT_KINDS : fragment.split(',')) {
    const kind = WEBHOOK_EVENT_KINDS.find((known) => known === name.trim())
    if (kind === undefined) {
      throw new TypeError(
        `selects an unknown event "${name.slice(0, 32)}" in its fragment; the events are ${WEBHOOK_EVENT_KINDS.join(', ')}`,
      )
    }
    events.add(kind)
  }
  parsed.hash = ''
  return {
    url: parsed.href,
    events,
    origin: parsed.origin,
    insecure: parsed.protocol === 'http:' && !isLoopback(parsed.hostname),
  }
}

function isLoopback(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    hostname === '[::1]' ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname)
  )
}

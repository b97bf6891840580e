import { ConfigError } from './config-error.ts'
import { formatDuration } from './duration.ts'
import type { PresenceWebhookOptions } from './presence-webhooks.ts'
import { duration, integer, type SettingSpec, type SettingText } from './setting-values.ts'
import {
  DEFAULT_WEBHOOK_MAX_QUEUE,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  MIN_WEBHOOK_SECRET_LENGTH,
} from './webhook-defaults.ts'
import { parseWebhookUrl } from './webhook-url.ts'

/** The settings of presence webhooks, validated. */
export interface WebhookSettings {
  /** The webhooks to start, or `null` when no URL is set. */
  webhooks: Pick<PresenceWebhookOptions, 'urls' | 'secret' | 'maxQueue' | 'timeoutMs'> | null
}

/** Their flags, environment variables and help lines, as in `config.ts`'s table. */
export const WEBHOOK_SETTINGS = {
  'webhook-url': {
    env: ['SSEHUB_WEBHOOK_URL'],
    arg: '<url>',
    help: 'POST presence events there; repeatable (env: space-separated); #events in the fragment',
    shown: 'none',
  },
  'webhook-secret': {
    env: ['SSEHUB_WEBHOOK_SECRET'],
    arg: '<secret>',
    help: `HMAC-SHA256 key signing webhooks, at least ${MIN_WEBHOOK_SECRET_LENGTH} characters`,
    shown: 'none',
  },
  'webhook-queue': {
    env: ['SSEHUB_WEBHOOK_QUEUE'],
    arg: '<n>',
    help: 'events queued per webhook URL; new ones past it are dropped',
    fallback: `${DEFAULT_WEBHOOK_MAX_QUEUE}`,
  },
  'webhook-timeout': {
    env: ['SSEHUB_WEBHOOK_TIMEOUT'],
    arg: '<dur>',
    help: 'longest webhook POST, answer included',
    fallback: formatDuration(DEFAULT_WEBHOOK_TIMEOUT_MS),
  },
} as const satisfies Record<string, SettingSpec>

/**
 * Reads and checks the {@link WebhookSettings}. URLs are separated by white space, which a URL
 * cannot hold unescaped (commas can: they separate the events of a fragment); the flag repeats.
 *
 * @throws {ConfigError} naming the setting and the fix, never quoting the secret or a URL (a
 * URL's path or query may hold a token, and the message may end up in a log).
 */
export function webhookSettings(
  text: (name: keyof typeof WEBHOOK_SETTINGS) => SettingText,
  pick: (name: keyof typeof WEBHOOK_SETTINGS) => SettingText | undefined,
): WebhookSettings {
  const setting = pick('webhook-url')
  const urls = setting?.value.split(/\s+/).filter((url) => url !== '') ?? []
  const secret = pick('webhook-secret')
  if (urls.length === 0) return { webhooks: null }
  urls.forEach((url, i) => {
    try {
      parseWebhookUrl(url)
    } catch (error) {
      throw new ConfigError(`${setting?.from}: URL ${i + 1} ${(error as Error).message}.`)
    }
  })
  if (secret === undefined) {
    throw new ConfigError(
      'Webhooks are signed: set SSEHUB_WEBHOOK_SECRET (or --webhook-secret) to a random key, e.g. from "openssl rand -hex 32", and verify with it (docs/webhooks.md).',
    )
  }
  if (secret.value.length < MIN_WEBHOOK_SECRET_LENGTH) {
    throw new ConfigError(
      `${secret.from} is shorter than ${MIN_WEBHOOK_SECRET_LENGTH} characters: use a random one, e.g. from "openssl rand -hex 32".`,
    )
  }
  return {
    webhooks: {
      urls,
      secret: secret.value,
      maxQueue: integer(text('webhook-queue'), 1),
      timeoutMs: duration(text('webhook-timeout'), 100, false) as number,
    },
  }
}

import {
  DEFAULT_SUBSCRIPTION_EVENT_RATE,
  DEFAULT_SUBSCRIPTION_EVENT_SELECTORS,
  SUBSCRIPTION_EVENT_BURST_FACTOR,
} from '../hub/index.ts'
import { ConfigError } from './config-error.ts'
import type { SettingSpec, SettingText } from './setting-values.ts'

/** The bounds on subscription events (see `SubscriptionEventLimits`), validated. */
export interface SubscriptionEventSettings {
  /** Subscription events per second per client address (burst: ten times it); `null` for no limit. */
  subscriptionEventRate: number | null
  /** Selectors of one connection that subscription events announce: its first ones. */
  subscriptionEventSelectors: number
}

/** Their flags, environment variables and help lines, as in `config.ts`'s table. */
export const SUBSCRIPTION_EVENT_SETTINGS = {
  'sub-events-rate': {
    env: ['SSEHUB_SUB_EVENTS_RATE'],
    arg: '<n>',
    help: `subscription events per second per client address, burst ${SUBSCRIPTION_EVENT_BURST_FACTOR}×, or "off"`,
    fallback: `${DEFAULT_SUBSCRIPTION_EVENT_RATE}`,
  },
  'sub-events-topics': {
    env: ['SSEHUB_SUB_EVENTS_TOPICS'],
    arg: '<n>',
    help: 'topic selectors of a connection that subscription events announce',
    fallback: `${DEFAULT_SUBSCRIPTION_EVENT_SELECTORS}`,
  },
} as const satisfies Record<string, SettingSpec>

/**
 * Reads and checks the {@link SubscriptionEventSettings}. `text` gives a setting's value (or its
 * default) and where it came from.
 *
 * @throws {ConfigError} naming the setting and the fix.
 */
export function subscriptionEventSettings(
  text: (name: keyof typeof SUBSCRIPTION_EVENT_SETTINGS) => SettingText,
): SubscriptionEventSettings {
  const rate = text('sub-events-rate')
  return {
    subscriptionEventRate: rate.value === 'off' ? null : whole(rate, ', or "off"'),
    subscriptionEventSelectors: whole(text('sub-events-topics'), ''),
  }
}

function whole(setting: SettingText, orElse: string): number {
  const value = Number(setting.value)
  if (!/^\d+$/.test(setting.value) || !Number.isSafeInteger(value) || value < 1) {
    throw new ConfigError(
      `${setting.from} must be a whole number of at least 1${orElse}; got "${setting.value}".`,
    )
  }
  return value
}

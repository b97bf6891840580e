import { DEFAULT_MAX_ID_BYTES, MAX_ID_BYTES } from '../node/index.ts'
import { ConfigError } from './config-error.ts'
import { DEFAULT_MAX_HEADER_BYTES } from './defaults.ts'
import type { SettingSpec, SettingText } from './setting-values.ts'

/** The settings of the request limits and the operations endpoints, validated. */
export interface OperationsSettings {
  /** Longest update `id` a publisher may give, in UTF-8 bytes (see `PublishLimits.maxIdBytes`). */
  maxIdBytes: number
  /** Largest request head (request line and headers), in bytes. */
  maxHeaderBytes: number
  /** The token `/metrics` requires as `Authorization: Bearer`; `null` for none. */
  metricsToken: string | null
  /** The other address that alone serves `/metrics`; `null` to serve it on the main port. */
  metricsListen: { host: string; port: number } | null
}

/** Their flags, environment variables and help lines, as in `config.ts`'s table. */
export const OPERATIONS_SETTINGS = {
  'max-id-bytes': {
    env: ['SSEHUB_MAX_ID_BYTES'],
    arg: '<bytes>',
    help: `longest update id a publisher may give, at most ${MAX_ID_BYTES}`,
    fallback: `${DEFAULT_MAX_ID_BYTES}`,
  },
  'max-header-bytes': {
    env: ['SSEHUB_MAX_HEADER_BYTES'],
    arg: '<bytes>',
    help: 'largest request line + headers; 431 past it',
    fallback: `${DEFAULT_MAX_HEADER_BYTES}`,
  },
  'metrics-token': {
    env: ['SSEHUB_METRICS_TOKEN'],
    arg: '<token>',
    help: '/metrics requires Authorization: Bearer <token>',
    shown: 'none',
  },
  'metrics-listen': {
    env: ['SSEHUB_METRICS_LISTEN'],
    arg: '<host:port>',
    help: 'serve /metrics on this address only, not on the main port',
    shown: 'off',
  },
} as const satisfies Record<string, SettingSpec>

/** A secret shorter than this is a placeholder, not a credential. */
const MIN_TOKEN_LENGTH = 16

/**
 * Reads and checks the {@link OperationsSettings}. `text` gives a setting's value (or its
 * default) and where it came from; `pick` the value only when it was set.
 *
 * @throws {ConfigError} naming the setting and the fix.
 */
export function operationsSettings(
  text: (name: keyof typeof OPERATIONS_SETTINGS) => SettingText,
  pick: (name: keyof typeof OPERATIONS_SETTINGS) => SettingText | undefined,
  mainPort: number,
): OperationsSettings {
  const token = pick('metrics-token')
  // The token is never quoted back: the message may end up in a log.
  if (token !== undefined && token.value.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(
      `${token.from} is shorter than ${MIN_TOKEN_LENGTH} characters: use a random one, e.g. from "openssl rand -hex 32".`,
    )
  }
  const listen = pick('metrics-listen')
  const metricsListen = listen === undefined ? null : address(listen)
  if (metricsListen !== null && metricsListen.port !== 0 && metricsListen.port === mainPort) {
    throw new ConfigError(
      `${listen?.from} uses port ${mainPort}, the main port: give the metrics another port.`,
    )
  }
  return {
    maxIdBytes: wholeNumber(text('max-id-bytes'), 1, MAX_ID_BYTES),
    maxHeaderBytes: wholeNumber(text('max-header-bytes'), 4096, 65_536),
    metricsToken: token?.value ?? null,
    metricsListen,
  }
}

function wholeNumber(setting: SettingText, minimum: number, maximum: number): number {
  const value = Number(setting.value)
  if (!/^\d+$/.test(setting.value) || value < minimum || value > maximum) {
    throw new ConfigError(
      `${setting.from} must be a whole number from ${minimum} to ${maximum}; got "${setting.value}".`,
    )
  }
  return value
}

/** `host:port`, `[v6]:port`, or a port alone (then on 127.0.0.1: metrics stay private). */
function address(setting: SettingText): { host: string; port: number } {
  const match = /^(?:\[([0-9A-Fa-f:.]+)\]:|([^:[\]\s]+):)?(\d{1,5})$/.exec(setting.value)
  const port = Number(match?.[3])
  if (match === null || port > 65_535) {
    throw new ConfigError(
      `${setting.from} must be "host:port", "[ipv6]:port" or a port; got "${setting.value}". Example: 127.0.0.1:9090.`,
    )
  }
  return { host: match[1] ?? match[2] ?? '127.0.0.1', port }
}

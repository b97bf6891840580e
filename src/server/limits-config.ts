import { ConfigError } from './config-error.ts'
import { defaultMaxConnections } from './open-files-limit.ts'
import { duration, integer, type SettingText } from './setting-values.ts'

// The settings of the connection and subscription limits (issue #11), read together so that
// the ones that bound each other are checked as a pair.

/** The settings read here, by flag name. */
type LimitSetting =
  | 'headers-timeout'
  | 'request-timeout'
  | 'keep-alive-timeout'
  | 'max-connections'
  | 'h2-max-streams'
  | 'max-template-work'
  | 'max-template-states'
  | 'max-per-address'
  | 'max-per-token'

/** The connection limits' settings (see `ConnectionLimits`), checked together. */
export function connectionLimits(text: (name: LimitSetting) => SettingText): {
  headersTimeoutMs: number
  requestTimeoutMs: number | null
  keepAliveTimeoutMs: number
  maxConnections: number | null
  http2MaxStreams: number
} {
  const headers = text('headers-timeout')
  const headersTimeoutMs = duration(headers, 100, false) as number
  const request = text('request-timeout')
  const requestTimeoutMs = duration(request, 100, true)
  if (requestTimeoutMs !== null && requestTimeoutMs < headersTimeoutMs) {
    throw new ConfigError(
      `${request.from} (${request.value}) is shorter than ${headers.from} (${headers.value}): a request's whole time includes its headers' time. Raise it, or lower the other.`,
    )
  }
  const max = text('max-connections')
  return {
    headersTimeoutMs,
    requestTimeoutMs,
    keepAliveTimeoutMs: duration(text('keep-alive-timeout'), 100, false) as number,
    maxConnections:
      max.value === 'auto' ? defaultMaxConnections() : max.value === 'off' ? null : integer(max, 1),
    http2MaxStreams: integer(text('h2-max-streams'), 1),
  }
}

/** The hub-wide limits on subscriptions (see `HubOptions`): each a whole number, or "off". */
export function subscriptionLimits(text: (name: LimitSetting) => SettingText): {
  maxTemplateWork: number | null
  maxTemplateStates: number | null
  maxSubscriptionsPerAddress: number | null
  maxSubscriptionsPerToken: number | null
} {
  const bound = (name: LimitSetting): number | null => {
    const setting = text(name)
    return setting.value === 'off' ? null : integer(setting, 1, ', or "off"')
  }
  return {
    maxTemplateWork: bound('max-template-work'),
    maxTemplateStates: bound('max-template-states'),
    maxSubscriptionsPerAddress: bound('max-per-address'),
    maxSubscriptionsPerToken: bound('max-per-token'),
  }
}

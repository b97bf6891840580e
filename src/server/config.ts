import { parseArgs } from 'node:util'
import {
  DEFAULT_MAX_LIFETIME_MS,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_ADDRESS,
  DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN,
  DEFAULT_MAX_TEMPLATE_STATES,
  DEFAULT_MAX_TEMPLATE_WORK,
  DEFAULT_MAX_UPDATES,
} from '../hub/index.ts'
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_STALL_TIMEOUT_MS,
} from '../index.ts'
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES } from '../node/index.ts'
import { ADMIN_SETTINGS, type AdminSettings, adminSettings } from './admin-config.ts'
import { ConfigError } from './config-error.ts'
import {
  DEFAULT_HEADERS_TIMEOUT_MS,
  DEFAULT_HOST,
  DEFAULT_HTTP2_MAX_STREAMS,
  DEFAULT_KEEP_ALIVE_TIMEOUT_MS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_STORE,
  DEVELOPMENT_HOST,
} from './defaults.ts'
import { formatDuration } from './duration.ts'
import { connectionLimits, subscriptionLimits } from './limits-config.ts'
import {
  OPERATIONS_SETTINGS,
  type OperationsSettings,
  operationsSettings,
} from './operations-config.ts'
import { PROTOCOL_SETTINGS, type ProtocolSettings, protocolSettings } from './protocol-config.ts'
import {
  algorithms,
  boolean,
  duration,
  helpLine,
  integer,
  origins,
  readPem,
  type SettingSpec,
  type SettingText,
} from './setting-values.ts'
import { type StoreConfig, store } from './store-setting.ts'
import {
  SUBSCRIPTION_EVENT_SETTINGS,
  type SubscriptionEventSettings,
  subscriptionEventSettings,
} from './subscription-events-config.ts'
import { WEBHOOK_SETTINGS, type WebhookSettings, webhookSettings } from './webhook-config.ts'

export type { StoreConfig }
export { ConfigError }

/** Everything the CLI needs to start a server, validated. */
export interface ServerConfig
  extends OperationsSettings,
    AdminSettings,
    SubscriptionEventSettings,
    WebhookSettings,
    ProtocolSettings {
  port: number
  host: string
  heartbeatMs: number | null
  tls: { cert: Buffer; key: Buffer } | null
  logLevel: string
  logFormat: 'json' | 'pretty'
  /** Key (secret, PEM, JWKS URL or file) verifying publishers' tokens; `null` in development mode. */
  publisherKey: string | null
  /** Key verifying subscribers' tokens; `null` in development mode. */
  subscriberKey: string | null
  /** Allowed `alg` values of publishers' tokens; `null` for the key type's defaults. */
  publisherAlgorithms: string[] | null
  /** Allowed `alg` values of subscribers' tokens; `null` for the key type's defaults. */
  subscriberAlgorithms: string[] | null
  /** Whether subscribers without a token get public updates. */
  anonymous: boolean
  corsOrigins: string[] | '*'
  publishOrigins: string[] | '*'
  subscriptions: boolean
  store: StoreConfig
  maxBodyBytes: number
  /** How long a publish body may take to arrive once its token was accepted; `null` for no limit. */
  bodyTimeoutMs: number | null
  historySize: number
  historyAgeMs: number | null
  maxLifetimeMs: number | null
  /** Template work one topic may meet, in automaton states (see `HubOptions.maxTemplateWork`); `null` for no bound. */
  maxTemplateWork: number | null
  /** Automaton states of all distinct templates subscribed to; `null` for no bound. */
  maxTemplateStates: number | null
  /** Subscriptions open at once per client address (IPv6: per /64); `null` for no cap. */
  maxSubscriptionsPerAddress: number | null
  /** Subscriptions open at once per token; `null` for no cap. */
  maxSubscriptionsPerToken: number | null
  /** Bound of what one client failed to take, in bytes (see `EventStreamOptions.maxQueueBytes`). */
  maxQueueBytes: number
  /** How long a client may take nothing while data waits for it; `null` for no limit. */
  stallTimeoutMs: number | null
  /** How long a request's headers may take to arrive. */
  headersTimeoutMs: number
  /** How long a whole request (not its response) may take to arrive; `null` for no limit. */
  requestTimeoutMs: number | null
  /** How long an idle keep-alive connection (an HTTP/2 one without streams) is kept. */
  keepAliveTimeoutMs: number
  /** Most open connections; `null` for no cap. */
  maxConnections: number | null
  /** Most concurrent streams (subscriptions, requests) per HTTP/2 connection. */
  http2MaxStreams: number
  /** No keys configured: a generated key, anonymous subscribers, a printed token. */
  devMode: boolean
}

/**
 * Each setting: its flag, its environment variables (first wins), its help line, and its default
 * (`fallback`, the text read when it is not set), written from the `defaults.ts` of its floor.
 * `--help` is made from it, and `test/config-docs.test.ts` holds docs/hub.md to it.
 */
export const SETTINGS = {
  port: { env: ['PORT'], arg: '<n>', help: 'port to listen on', fallback: `${DEFAULT_PORT}` },
  host: {
    env: ['HOST'],
    arg: '<addr>',
    help: 'address to bind',
    fallback: DEFAULT_HOST,
    shown: `${DEFAULT_HOST}; ${DEVELOPMENT_HOST} in development mode`,
  },
  heartbeat: {
    env: ['SSEHUB_HEARTBEAT'],
    arg: '<dur>',
    help: 'keep-alive comment interval, or "off"',
    fallback: formatDuration(DEFAULT_HEARTBEAT_MS),
  },
  cert: {
    env: ['SSEHUB_TLS_CERT'],
    arg: '<file>',
    help: 'TLS certificate (PEM): serve HTTPS + HTTP/2',
  },
  key: { env: ['SSEHUB_TLS_KEY'], arg: '<file>', help: 'TLS private key (PEM)' },
  'publisher-jwt-key': {
    env: [
      'SSEHUB_PUBLISHER_JWT_KEY',
      'MERCURE_PUBLISHER_JWT_KEY',
      'SSEHUB_JWT_KEY',
      'MERCURE_JWT_KEY',
    ],
    arg: '<key>',
    help: 'secret, PEM, JWKS URL or JWKS file verifying publishers',
  },
  'subscriber-jwt-key': {
    env: [
      'SSEHUB_SUBSCRIBER_JWT_KEY',
      'MERCURE_SUBSCRIBER_JWT_KEY',
      'SSEHUB_JWT_KEY',
      'MERCURE_JWT_KEY',
    ],
    arg: '<key>',
    help: 'the same, verifying subscribers',
  },
  'publisher-jwt-alg': {
    env: ['MERCURE_PUBLISHER_JWT_ALG', 'SSEHUB_JWT_ALG'],
    arg: '<algs>',
    help: "publishers' allowed alg list (HS256 for a secret)",
  },
  'subscriber-jwt-alg': {
    env: ['MERCURE_SUBSCRIBER_JWT_ALG', 'SSEHUB_JWT_ALG'],
    arg: '<algs>',
    help: "subscribers' allowed alg list",
  },
  anonymous: {
    env: ['SSEHUB_ANONYMOUS'],
    arg: '<bool>',
    help: 'let subscribers without a token in',
    fallback: 'false',
  },
  'cors-origins': {
    env: ['SSEHUB_CORS_ORIGINS'],
    arg: '<list>',
    help: 'origins allowed by CORS, or "*"',
    fallback: '',
    shown: 'none',
  },
  'publish-origins': {
    env: ['SSEHUB_PUBLISH_ORIGINS'],
    arg: '<list>',
    help: 'origins allowed to publish with the cookie',
    fallback: '',
    shown: 'none',
  },
  subscriptions: {
    env: ['SSEHUB_SUBSCRIPTIONS'],
    arg: '<bool>',
    help: 'subscription events and API',
    fallback: 'false',
  },
  store: {
    env: ['SSEHUB_STORE'],
    arg: '<store>',
    help: 'memory | sqlite:<path> | redis://host:port[?prefix=…]',
    fallback: DEFAULT_STORE,
  },
  'max-body': {
    env: ['SSEHUB_MAX_BODY'],
    arg: '<bytes>',
    help: 'largest publish body',
    fallback: `${DEFAULT_MAX_BODY_BYTES}`,
  },
  'body-timeout': {
    env: ['SSEHUB_BODY_TIMEOUT'],
    arg: '<dur>',
    help: 'answer 408 to a publish body not in by then, or "off"',
    fallback: formatDuration(DEFAULT_BODY_TIMEOUT_MS),
  },
  'queue-bytes': {
    env: ['SSEHUB_QUEUE_BYTES'],
    arg: '<bytes>',
    help: 'what a client may fail to take before it is cut',
    fallback: `${DEFAULT_MAX_QUEUE_BYTES}`,
  },
  'stall-timeout': {
    env: ['SSEHUB_STALL_TIMEOUT'],
    arg: '<dur>',
    help: 'cut a client that takes nothing for this long while data waits, or "off"',
    fallback: formatDuration(DEFAULT_STALL_TIMEOUT_MS),
  },
  'headers-timeout': {
    env: ['SSEHUB_HEADERS_TIMEOUT'],
    arg: '<dur>',
    help: "408 and close when a request's headers are not in by then",
    fallback: formatDuration(DEFAULT_HEADERS_TIMEOUT_MS),
  },
  'request-timeout': {
    env: ['SSEHUB_REQUEST_TIMEOUT'],
    arg: '<dur>',
    help: 'the same for a whole request, body included; never a response, or "off"',
    fallback: formatDuration(DEFAULT_REQUEST_TIMEOUT_MS),
  },
  'keep-alive-timeout': {
    env: ['SSEHUB_KEEP_ALIVE_TIMEOUT'],
    arg: '<dur>',
    help: 'close an idle connection (HTTP/2: one without streams) after',
    fallback: formatDuration(DEFAULT_KEEP_ALIVE_TIMEOUT_MS),
  },
  'max-connections': {
    env: ['SSEHUB_MAX_CONNECTIONS'],
    arg: '<n>',
    help: 'close connections beyond n at accept, or "off"',
    fallback: 'auto',
    shown: 'auto: 90% of ulimit -n',
  },
  'h2-max-streams': {
    env: ['SSEHUB_H2_MAX_STREAMS'],
    arg: '<n>',
    help: 'concurrent streams (subscriptions) per HTTP/2 connection',
    fallback: `${DEFAULT_HTTP2_MAX_STREAMS}`,
  },
  'history-size': {
    env: ['SSEHUB_HISTORY_SIZE'],
    arg: '<n>',
    help: 'updates kept for replay',
    fallback: `${DEFAULT_MAX_UPDATES}`,
  },
  'history-age': {
    env: ['SSEHUB_HISTORY_AGE'],
    arg: '<dur>',
    help: 'drop updates older than this',
    fallback: 'off',
  },
  'max-lifetime': {
    env: ['SSEHUB_MAX_LIFETIME'],
    arg: '<dur>',
    help: 'longest connection, or "off"',
    fallback: formatDuration(DEFAULT_MAX_LIFETIME_MS),
  },
  'max-template-work': {
    env: ['SSEHUB_MAX_TEMPLATE_WORK'],
    arg: '<n>',
    help: 'template states one published topic is tested against, or "off"',
    fallback: `${DEFAULT_MAX_TEMPLATE_WORK}`,
  },
  'max-template-states': {
    env: ['SSEHUB_MAX_TEMPLATE_STATES'],
    arg: '<n>',
    help: 'template states of all distinct templates subscribed to, or "off"',
    fallback: `${DEFAULT_MAX_TEMPLATE_STATES}`,
  },
  'max-per-address': {
    env: ['SSEHUB_MAX_PER_ADDRESS'],
    arg: '<n>',
    help: 'subscriptions open at once per client address (IPv6: per /64), or "off"',
    fallback: `${DEFAULT_MAX_SUBSCRIPTIONS_PER_ADDRESS}`,
  },
  'max-per-token': {
    env: ['SSEHUB_MAX_PER_TOKEN'],
    arg: '<n>',
    help: 'subscriptions open at once per token, or "off"',
    fallback: `${DEFAULT_MAX_SUBSCRIPTIONS_PER_TOKEN}`,
  },
  ...PROTOCOL_SETTINGS,
  'log-level': {
    env: ['SSEHUB_LOG_LEVEL'],
    arg: '<lvl>',
    help: 'trace|debug|info|warn|error|silent',
    fallback: DEFAULT_LOG_LEVEL,
  },
  'log-format': {
    env: ['SSEHUB_LOG_FORMAT'],
    arg: '<fmt>',
    help: 'json|pretty',
    shown: 'pretty on a terminal',
  },
  ...OPERATIONS_SETTINGS,
  ...ADMIN_SETTINGS,
  ...SUBSCRIPTION_EVENT_SETTINGS,
  ...WEBHOOK_SETTINGS,
} as const satisfies Record<string, SettingSpec>

type SettingName = keyof typeof SETTINGS

const OPTIONS: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> =
  {
    ...Object.fromEntries(Object.keys(SETTINGS).map((name) => [name, { type: 'string' as const }])),
    'webhook-url': { type: 'string', multiple: true },
    port: { type: 'string', short: 'p' },
    help: { type: 'boolean', short: 'h' },
  }

/** The `--help` text. */
export const USAGE = `Usage: ssehub [serve] [options]
       ssehub token [--publish <selectors>] [--subscribe <selectors>] [--ttl <dur>] [--key <key>] [--alg <alg>]

Options (each may also be set by the environment variable shown; flags win):
${Object.entries(SETTINGS)
  .map(([name, s]) => `  --${`${name} ${s.arg}`.padEnd(28)} ${s.env[0]?.padEnd(26)} ${helpLine(s)}`)
  .join('\n')}
  -h, --help

Durations: 500ms, 15s, 2m, 1h; a bare number is milliseconds. Lists: comma or space separated.
Mercure's names work too: MERCURE_PUBLISHER_JWT_KEY, MERCURE_SUBSCRIBER_JWT_KEY,
MERCURE_PUBLISHER_JWT_ALG, MERCURE_SUBSCRIBER_JWT_ALG, MERCURE_TRUSTED_ISSUERS,
MERCURE_RESOURCE_IDENTIFIER, MERCURE_PUBLIC_URLS. With no key at all, ssehub runs in
development mode: it generates a key, lets anonymous subscribers in and prints a publisher token.
`

/** Result of {@link loadConfig}: a config, or a request for help. */
export type LoadedConfig = { help: true } | { help: false; config: ServerConfig }

/**
 * Reads flags and environment into a validated {@link ServerConfig}.
 *
 * @throws {ConfigError} with a message that names the setting and how to fix it.
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  isTerminal = false,
): LoadedConfig {
  let values: Partial<Record<SettingName, string>> & { help?: boolean }
  let positionals: string[]
  try {
    ;({ values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    }))
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${USAGE}`)
  }
  if (values.help) return { help: true }
  const command = positionals[0] ?? 'serve'
  if (command !== 'serve' || positionals.length > 1) {
    throw new ConfigError(
      `Unknown command "${positionals.join(' ')}". Commands: serve, token.\n\n${USAGE}`,
    )
  }

  /** The setting's value and the name to quote in an error (the flag or the variable it came from). */
  const pick = (name: SettingName): SettingText | undefined => {
    const flag: string | string[] | undefined = values[name]
    if (flag !== undefined) return { value: [flag].flat().join(' '), from: `--${name}` }
    for (const variable of SETTINGS[name].env) {
      const value = env[variable]
      if (value !== undefined && value !== '') return { value, from: variable }
    }
    return undefined
  }
  /** The setting's text: as set, else `fallback`, else its default from the table. */
  const text = (name: SettingName, fallback?: string): SettingText => {
    const set = pick(name)
    if (set !== undefined) return set
    const spec: SettingSpec = SETTINGS[name]
    const value = fallback ?? spec.fallback
    if (value === undefined) throw new Error(`The setting --${name} has no default.`)
    return { value, from: spec.env[0] as string }
  }

  const portSetting = text('port')
  const port = Number(portSetting.value)
  if (!/^\d+$/.test(portSetting.value) || port > 65_535) {
    throw new ConfigError(
      `${portSetting.from} must be a whole number from 0 to 65535, got "${portSetting.value}". Example: PORT=3000.`,
    )
  }

  const tlsCert = pick('cert')
  const tlsKey = pick('key')
  if ((tlsCert === undefined) !== (tlsKey === undefined)) {
    throw new ConfigError(
      'HTTPS needs both --cert and --key (SSEHUB_TLS_CERT and SSEHUB_TLS_KEY); only one was given.',
    )
  }
  const tls =
    tlsCert && tlsKey
      ? { cert: readPem(tlsCert.value, 'certificate'), key: readPem(tlsKey.value, 'private key') }
      : null

  const logLevel = text('log-level')
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel.value)) {
    throw new ConfigError(
      `${logLevel.from} must be one of trace, debug, info, warn, error, silent; got "${logLevel.value}".`,
    )
  }
  const logFormat = text('log-format', isTerminal ? 'pretty' : 'json')
  if (logFormat.value !== 'json' && logFormat.value !== 'pretty') {
    throw new ConfigError(`${logFormat.from} must be "json" or "pretty"; got "${logFormat.value}".`)
  }

  const publisherKey = pick('publisher-jwt-key')?.value ?? null
  const subscriberKey = pick('subscriber-jwt-key')?.value ?? null
  if ((publisherKey === null) !== (subscriberKey === null)) {
    throw new ConfigError(
      publisherKey === null
        ? 'A subscriber key is set but no publisher key: set SSEHUB_PUBLISHER_JWT_KEY too (or SSEHUB_JWT_KEY for both).'
        : 'A publisher key is set but no subscriber key: set SSEHUB_SUBSCRIBER_JWT_KEY too (or SSEHUB_JWT_KEY for both).',
    )
  }
  const devMode = publisherKey === null

  return {
    help: false,
    config: {
      port,
      // Development mode's hub takes anyone's publishes with its printed token and serves the
      // chat: on this machine only, unless HOST says otherwise.
      host: text('host', devMode ? DEVELOPMENT_HOST : DEFAULT_HOST).value,
      heartbeatMs: duration(text('heartbeat'), 100, true),
      tls,
      logLevel: logLevel.value,
      logFormat: logFormat.value,
      publisherKey,
      subscriberKey,
      publisherAlgorithms: algorithms(pick('publisher-jwt-alg')),
      subscriberAlgorithms: algorithms(pick('subscriber-jwt-alg')),
      anonymous: devMode || boolean(text('anonymous')),
      corsOrigins: origins(text('cors-origins')),
      publishOrigins: origins(text('publish-origins')),
      subscriptions: boolean(text('subscriptions')),
      store: store(text('store')),
      maxBodyBytes: integer(text('max-body'), 1),
      bodyTimeoutMs: duration(text('body-timeout'), 100, true),
      historySize: integer(text('history-size'), 1),
      historyAgeMs: duration(text('history-age'), 1000, true),
      maxLifetimeMs: duration(text('max-lifetime'), 1000, true),
      ...subscriptionLimits(text),
      maxQueueBytes: integer(text('queue-bytes'), 65_536),
      stallTimeoutMs: duration(text('stall-timeout'), 1000, true),
      ...connectionLimits(text),
      ...operationsSettings(text, pick, port),
      ...adminSettings(pick),
      ...subscriptionEventSettings(text),
      ...webhookSettings(text, pick),
      ...protocolSettings(text, pick),
      devMode,
    },
  }
}

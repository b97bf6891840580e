import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { parseDuration } from './duration.ts'

/** Everything the CLI needs to start a server, validated. */
export interface ServerConfig {
  port: number
  host: string
  heartbeatMs: number | null
  tls: { cert: Buffer; key: Buffer } | null
  logLevel: string
  logFormat: 'json' | 'pretty'
}

/** A configuration mistake, with a message that says how to fix it. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ConfigError'
  }
}

/** The CLI's options; each also has an environment variable (see {@link USAGE}). */
const OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  heartbeat: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  'log-level': { type: 'string' },
  'log-format': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** The `--help` text. */
export const USAGE = `Usage: ssehub [serve] [options]

Options (each may also be set by the environment variable shown):
  -p, --port <n>          port to listen on                     PORT              (3000)
      --host <addr>       address to bind                       HOST              (0.0.0.0)
      --heartbeat <dur>   keep-alive comment interval, or "off" SSEHUB_HEARTBEAT  (15s)
      --cert <file>       TLS certificate (PEM): HTTPS + HTTP/2 SSEHUB_TLS_CERT
      --key <file>        TLS private key (PEM)                 SSEHUB_TLS_KEY
      --log-level <lvl>   trace|debug|info|warn|error|silent    SSEHUB_LOG_LEVEL  (info)
      --log-format <fmt>  json|pretty                           SSEHUB_LOG_FORMAT (pretty on a terminal)
  -h, --help              show this help

Durations: 500ms, 15s, 2m, 1h; a bare number is milliseconds. Flags win over the environment.
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
  let values: {
    [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]['type'] extends 'boolean' ? boolean : string
  }
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
      `Unknown command "${positionals.join(' ')}". Commands: serve.\n\n${USAGE}`,
    )
  }

  const pick = (flag: string | undefined, name: string): string | undefined => {
    if (flag !== undefined) return flag
    const fromEnv = env[name]
    return fromEnv === '' ? undefined : fromEnv
  }

  const portText = pick(values.port, 'PORT') ?? '3000'
  const port = Number(portText)
  if (!/^\d+$/.test(portText) || port > 65_535) {
    throw new ConfigError(
      `PORT must be a whole number from 0 to 65535, got "${portText}". Example: PORT=3000.`,
    )
  }
  const host = pick(values.host, 'HOST') ?? '0.0.0.0'

  const heartbeatText = pick(values.heartbeat, 'SSEHUB_HEARTBEAT') ?? '15s'
  let heartbeatMs: number | null
  if (heartbeatText === 'off' || heartbeatText === '0') {
    heartbeatMs = null
  } else {
    const parsed = parseDuration(heartbeatText)
    if (parsed === undefined || parsed < 100) {
      throw new ConfigError(
        `SSEHUB_HEARTBEAT must be a duration of at least 100ms such as "15s", or "off"; got "${heartbeatText}".`,
      )
    }
    heartbeatMs = parsed
  }

  const certPath = pick(values.cert, 'SSEHUB_TLS_CERT')
  const keyPath = pick(values.key, 'SSEHUB_TLS_KEY')
  let tls: ServerConfig['tls'] = null
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new ConfigError(
      'HTTPS needs both --cert and --key (SSEHUB_TLS_CERT and SSEHUB_TLS_KEY); only one was given.',
    )
  }
  if (certPath !== undefined && keyPath !== undefined) {
    tls = { cert: readPem(certPath, 'certificate'), key: readPem(keyPath, 'private key') }
  }

  const logLevel = pick(values['log-level'], 'SSEHUB_LOG_LEVEL') ?? 'info'
  if (!['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'].includes(logLevel)) {
    throw new ConfigError(
      `SSEHUB_LOG_LEVEL must be one of trace, debug, info, warn, error, silent; got "${logLevel}".`,
    )
  }
  const logFormat =
    pick(values['log-format'], 'SSEHUB_LOG_FORMAT') ?? (isTerminal ? 'pretty' : 'json')
  if (logFormat !== 'json' && logFormat !== 'pretty') {
    throw new ConfigError(`SSEHUB_LOG_FORMAT must be "json" or "pretty"; got "${logFormat}".`)
  }

  return { help: false, config: { port, host, heartbeatMs, tls, logLevel, logFormat } }
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new ConfigError(
      `Cannot read the TLS ${what} at "${path}": ${(error as NodeJS.ErrnoException).code ?? 'error'}. Check the path and its permissions.`,
    )
  }
}

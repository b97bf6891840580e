import { parseArgs } from 'node:util'
import { mintToken } from '../node/index.ts'
import { ConfigError } from './config.ts'

/** The `ssehub token --help` text. */
const TOKEN_USAGE = `Usage: ssehub token [options]

Mints a Mercure JWT and prints it.
  --publish <selectors>    topics it may publish to (comma separated; "*" for all)
  --subscribe <selectors>  private topics it may receive (comma separated; "*" for all)
  --payload <json>         mercure.payload, any JSON
  --ttl <duration>         lifetime: 90s, 15m, 1h, 7d, or "never" (1h)
  --subject <sub>          the sub claim
  --key <key>              secret or PEM private key (else SSEHUB_PUBLISHER_JWT_KEY, MERCURE_PUBLISHER_JWT_KEY,
                           SSEHUB_JWT_KEY; with --subscriber, the subscriber key variables)
  --subscriber             sign with the subscriber key instead of the publisher key
  --alg <alg>              algorithm (from the key type: HS256 for a secret)
`

/** Runs `ssehub token`: returns the token, or the help text; throws ConfigError on a mistake. */
export async function runTokenCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        publish: { type: 'string' },
        subscribe: { type: 'string' },
        payload: { type: 'string' },
        ttl: { type: 'string' },
        subject: { type: 'string' },
        key: { type: 'string' },
        alg: { type: 'string' },
        subscriber: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }).values
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${TOKEN_USAGE}`)
  }
  if (values['help']) return TOKEN_USAGE
  const names = values['subscriber']
    ? [
        'SSEHUB_SUBSCRIBER_JWT_KEY',
        'MERCURE_SUBSCRIBER_JWT_KEY',
        'SSEHUB_JWT_KEY',
        'MERCURE_JWT_KEY',
      ]
    : ['SSEHUB_PUBLISHER_JWT_KEY', 'MERCURE_PUBLISHER_JWT_KEY', 'SSEHUB_JWT_KEY', 'MERCURE_JWT_KEY']
  const key =
    (values['key'] as string | undefined) ??
    names.map((name) => env[name]).find((v) => v !== undefined && v !== '')
  if (key === undefined) {
    throw new ConfigError(`No key to sign with: pass --key or set ${names[0]}.`)
  }
  const list = (value: unknown): string[] | undefined =>
    typeof value === 'string'
      ? value
          .split(',')
          .map((item) => item.trim())
          .filter((item) => item !== '')
      : undefined
  let payload: unknown
  if (typeof values['payload'] === 'string') {
    try {
      payload = JSON.parse(values['payload'])
    } catch {
      throw new ConfigError('--payload must be JSON, e.g. --payload \'{"name":"Ada"}\'.')
    }
  }
  const ttl = values['ttl'] as string | undefined
  try {
    return await mintToken({
      key,
      alg: values['alg'] as string | undefined,
      publish: list(values['publish']),
      subscribe: list(values['subscribe']),
      payload,
      expiresIn: ttl === 'never' ? null : (ttl ?? '1h'),
      subject: values['subject'] as string | undefined,
      keyName: values['key'] === undefined ? names[0] : '--key',
    })
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
}

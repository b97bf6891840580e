import { parseArgs } from 'node:util'
import { mintAccessToken, mintToken, type TokenMatcher } from '../node/index.ts'
import { ConfigError } from './config.ts'
import { DEFAULT_TRUSTED_ISSUER } from './defaults.ts'

/** The `ssehub token --help` text. */
const TOKEN_USAGE = `Usage: ssehub token [options]

Mints a Mercure token and prints it: a Mercure 0.x JWT (its grants in the mercure claim), or,
with --protocol 1.0 or any 1.0 option below, a Mercure 1.0 access token (typ at+jwt, its grants
in authorization_details).
  --publish <selectors>    topics it may publish to (comma separated; "*" for all)
  --subscribe <selectors>  private topics it may receive (comma separated; "*" for all)
  --payload <json>         mercure.payload, any JSON (1.0: the subscribe grant's, a JSON object)
  --ttl <duration>         lifetime: 90s, 15m, 1h, 7d, or "never" (1h; a 1.0 token always expires)
  --subject <sub>          the sub claim
  --key <key>              secret or PEM private key (else SSEHUB_PUBLISHER_JWT_KEY, MERCURE_PUBLISHER_JWT_KEY,
                           SSEHUB_JWT_KEY; with --subscriber, the subscriber key variables)
  --subscriber             sign with the subscriber key instead of the publisher key
  --alg <alg>              algorithm (from the key type: HS256 for a secret)
  --protocol <version>     1.0 or 0.x (0.x, unless a 1.0 option below is given)

Mercure 1.0 (any of these mints a 1.0 access token; --publish and --subscribe are then exact
topics, or "*"):
  --issuer <iss>           the iss claim: an issuer the hub trusts with this key (ssehub, the hub's
                           default trusted issuer)
  --audience <url>         the aud claim: the hub's resource identifier, e.g.
                           https://example.com/.well-known/mercure (else SSEHUB_RESOURCE_IDENTIFIER,
                           MERCURE_RESOURCE_IDENTIFIER; required)
  --publish-urlpattern <pattern>    a URL pattern it may publish to (repeat for more)
  --subscribe-urlpattern <pattern>  a URL pattern of private topics it may receive (repeat for more)
  --client-id <id>         the client_id claim
`

/** The command's options, for `parseArgs`. */
const OPTIONS = {
  publish: { type: 'string' },
  subscribe: { type: 'string' },
  payload: { type: 'string' },
  ttl: { type: 'string' },
  subject: { type: 'string' },
  key: { type: 'string' },
  alg: { type: 'string' },
  subscriber: { type: 'boolean' },
  protocol: { type: 'string' },
  issuer: { type: 'string' },
  audience: { type: 'string' },
  'publish-urlpattern': { type: 'string', multiple: true },
  'subscribe-urlpattern': { type: 'string', multiple: true },
  'client-id': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const

/** The options that make `ssehub token` mint a Mercure 1.0 access token. */
const ACCESS_TOKEN_OPTIONS = [
  'issuer',
  'audience',
  'publish-urlpattern',
  'subscribe-urlpattern',
  'client-id',
] as const

/** The options as read from the command line. */
type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; strict: true }>>['values']

/** Runs `ssehub token`: returns the token, or the help text; throws ConfigError on a mistake. */
export async function runTokenCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<string> {
  let values: Values
  try {
    values = parseArgs({ args: [...argv], options: OPTIONS, strict: true }).values
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}\n\n${TOKEN_USAGE}`)
  }
  if (values.help) return TOKEN_USAGE
  const names = values.subscriber
    ? [
        'SSEHUB_SUBSCRIBER_JWT_KEY',
        'MERCURE_SUBSCRIBER_JWT_KEY',
        'SSEHUB_JWT_KEY',
        'MERCURE_JWT_KEY',
      ]
    : ['SSEHUB_PUBLISHER_JWT_KEY', 'MERCURE_PUBLISHER_JWT_KEY', 'SSEHUB_JWT_KEY', 'MERCURE_JWT_KEY']
  const key = values.key ?? names.map((name) => env[name]).find((v) => v !== undefined && v !== '')
  if (key === undefined) {
    throw new ConfigError(`No key to sign with: pass --key or set ${names[0]}.`)
  }
  let payload: unknown
  if (values.payload !== undefined) {
    try {
      payload = JSON.parse(values.payload)
    } catch {
      throw new ConfigError('--payload must be JSON, e.g. --payload \'{"name":"Ada"}\'.')
    }
  }
  const { ttl, protocol } = values
  const keyName = values.key === undefined ? names[0] : '--key'
  if (protocol !== undefined && protocol !== '1.0' && protocol !== '0.x') {
    throw new ConfigError('--protocol must be 1.0 or 0.x.')
  }
  const option = ACCESS_TOKEN_OPTIONS.find((name) => values[name] !== undefined)
  if (protocol === '0.x' && option !== undefined) {
    throw new ConfigError(`--${option} is a Mercure 1.0 option; it cannot go with --protocol 0.x.`)
  }
  if (protocol === '1.0' || option !== undefined) {
    return mintVersion1(values, env, { key, keyName, payload })
  }
  try {
    return await mintToken({
      key,
      alg: values.alg,
      publish: list(values.publish),
      subscribe: list(values.subscribe),
      payload,
      expiresIn: ttl === 'never' ? null : (ttl ?? '1h'),
      subject: values.subject,
      keyName,
    })
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
}

/** What `runTokenCommand` has read already, for {@link mintVersion1}. */
interface CommonValues {
  key: string
  keyName: string | undefined
  payload: unknown
}

/** Mints a Mercure 1.0 access token from the command's options. */
async function mintVersion1(
  values: Values,
  env: Readonly<Record<string, string | undefined>>,
  { key, keyName, payload }: CommonValues,
): Promise<string> {
  const audience =
    values.audience ??
    ['SSEHUB_RESOURCE_IDENTIFIER', 'MERCURE_RESOURCE_IDENTIFIER']
      .map((name) => env[name])
      .find((value) => value !== undefined && value !== '')
  if (audience === undefined) {
    throw new ConfigError(
      "A Mercure 1.0 access token needs --audience: the hub's resource identifier, which its aud must hold (e.g. https://example.com/.well-known/mercure), or set SSEHUB_RESOURCE_IDENTIFIER.",
    )
  }
  if (values.ttl === 'never') {
    throw new ConfigError('--ttl never: a Mercure 1.0 access token must expire (e.g. --ttl 1h).')
  }
  if (
    payload !== undefined &&
    (typeof payload !== 'object' || payload === null || Array.isArray(payload))
  ) {
    throw new ConfigError(
      '--payload must be a JSON object for a 1.0 token, e.g. --payload \'{"name":"Ada"}\'.',
    )
  }
  const matchers = (exact: string | undefined, patterns: string[] | undefined): TokenMatcher[] => [
    ...(list(exact) ?? []).map((match) => ({ match })),
    ...(patterns ?? []).map((match) => ({ match, match_type: 'urlpattern' as const })),
  ]
  try {
    return await mintAccessToken({
      key,
      alg: values.alg,
      issuer: values.issuer ?? DEFAULT_TRUSTED_ISSUER,
      audience,
      publish: matchers(values.publish, values['publish-urlpattern']),
      subscribe: matchers(values.subscribe, values['subscribe-urlpattern']),
      payload: payload as Record<string, unknown> | undefined,
      expiresIn: values.ttl ?? '1h',
      subject: values.subject,
      clientId: values['client-id'],
      keyName,
    })
  } catch (error) {
    throw new ConfigError((error as Error).message)
  }
}

/** A comma-separated option's items, trimmed, without empty ones; `undefined` when not given. */
function list(value: string | undefined): string[] | undefined {
  return value
    ?.split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '')
}

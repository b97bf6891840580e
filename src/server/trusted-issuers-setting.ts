import type { MercureHandlerOptions } from '../node/index.ts'
import { ConfigError } from './config-error.ts'
import { list, type SettingText } from './setting-values.ts'

// `--trusted-issuers`: the issuers whose Mercure 1.0 access tokens the hub accepts. A list of
// names verified with the hub's own keys, or a JSON array with keys per issuer. The keys are
// secrets: no message here quotes a key, nor the JSON text (which holds them).

/** One trusted issuer and its keys (see `TrustedIssuer` of `ssehub/node`'s handler options). */
export type TrustedIssuer = NonNullable<MercureHandlerOptions['trustedIssuers']>[number]

/** The members of an issuer object in the JSON form, and what each must be. */
const MEMBERS = {
  issuer: 'string',
  key: 'string',
  publisherKey: 'string',
  subscriberKey: 'string',
  algorithms: 'list',
  authorizationServer: 'boolean',
} as const

type Member = keyof typeof MEMBERS

const EXAMPLE =
  '[{"issuer":"https://auth.example.com","key":"https://auth.example.com/jwks.json","authorizationServer":true}]'

/**
 * Reads `--trusted-issuers`: issuer identifiers separated by commas or spaces, each verified with
 * the hub's keys; or, when the text starts with `[`, a JSON array of issuer objects (`issuer`,
 * and optionally `key`, `publisherKey`, `subscriberKey`, `algorithms`, `authorizationServer`).
 *
 * @throws {ConfigError} naming the setting, the entry and the fix; never quoting a key.
 */
export function trustedIssuers(setting: SettingText): TrustedIssuer[] {
  const text = setting.value.trim()
  const issuers = text.startsWith('[')
    ? parseJson(setting, text)
    : list(text).map((issuer) => ({ issuer: identifier(setting, issuer) }))
  const seen = new Set<string>()
  for (const { issuer } of issuers) {
    if (seen.has(issuer)) {
      throw new ConfigError(
        `${setting.from} lists the issuer "${issuer}" twice: give each issuer one entry.`,
      )
    }
    seen.add(issuer)
  }
  return issuers
}

function parseJson(setting: SettingText, text: string): TrustedIssuer[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    // V8's message quotes the text around the mistake, keys included: only its position is kept.
    const at = /position (\d+)/.exec((error as Error).message)?.[1]
    throw new ConfigError(
      `${setting.from} starts with "[" but is not valid JSON${at === undefined ? '' : ` (at character ${at})`}. Example: ${EXAMPLE}`,
    )
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ConfigError(
      `${setting.from} must be a non-empty JSON array of issuers, e.g. ${EXAMPLE}. To turn Mercure 1.0 off, set SSEHUB_PROTOCOLS=0.x.`,
    )
  }
  return parsed.map((entry: unknown, index) => issuerObject(setting, entry, index + 1))
}

function issuerObject(setting: SettingText, entry: unknown, position: number): TrustedIssuer {
  const where = `${setting.from}, issuer ${position}`
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new ConfigError(
      `${where} must be an object such as {"issuer":"https://auth.example.com"}.`,
    )
  }
  for (const name of Object.keys(entry)) {
    if (Object.hasOwn(MEMBERS, name)) continue
    const meant = Object.keys(MEMBERS).find((member) => fold(member) === fold(name))
    throw new ConfigError(
      `${where} has an unknown member "${name}"${meant === undefined ? '' : `: did you mean "${meant}"?`}. Members: ${Object.keys(MEMBERS).join(', ')}.`,
    )
  }
  const fields = entry as Partial<Record<Member, unknown>>
  if (typeof fields.issuer !== 'string' || fields.issuer === '') {
    throw new ConfigError(`${where} needs "issuer": the exact "iss" of its tokens.`)
  }
  const issuer: { -readonly [K in keyof TrustedIssuer]: TrustedIssuer[K] } = {
    issuer: identifier(setting, fields.issuer),
  }
  const named = `${setting.from}, issuer "${issuer.issuer}"`
  for (const [name, kind] of Object.entries(MEMBERS) as [Member, string][]) {
    const value = fields[name]
    if (value === undefined) continue
    if (kind === 'string' && (typeof value !== 'string' || value === '')) {
      throw new ConfigError(
        `${named}: "${name}" must be a non-empty string (a secret, a PEM key, or a JWKS URL or file).`,
      )
    }
    if (kind === 'boolean' && typeof value !== 'boolean') {
      throw new ConfigError(`${named}: "${name}" must be true or false.`)
    }
  }
  for (const name of ['key', 'publisherKey', 'subscriberKey'] as const) {
    const value = fields[name]
    if (typeof value === 'string') issuer[name] = value
  }
  if (fields.algorithms !== undefined) issuer.algorithms = algorithmList(named, fields.algorithms)
  if (typeof fields.authorizationServer === 'boolean') {
    issuer.authorizationServer = fields.authorizationServer
  }
  return issuer
}

function algorithmList(named: string, value: unknown): string[] {
  if (
    !Array.isArray(value) ||
    value.length === 0 ||
    value.some((alg) => typeof alg !== 'string' || alg === '')
  ) {
    throw new ConfigError(
      `${named}: "algorithms" must be a non-empty array of names, e.g. ["ES256"].`,
    )
  }
  const algorithms = value as string[]
  // [spec] "The hub MUST NOT accept `none`": an unsigned token would pass with no key at all.
  if (algorithms.some((alg) => alg.toLowerCase() === 'none')) {
    throw new ConfigError(
      `${named}: "algorithms" lists "none": unsigned tokens are never accepted. Remove it.`,
    )
  }
  return algorithms
}

/**
 * An issuer identifier: [spec] RFC 7519's StringOrURI, compared exactly with `iss`: any name,
 * but a URI when it holds a ":".
 */
function identifier(setting: SettingText, value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses.
  if (/[\u0000-\u001f\u007f]/.test(value)) {
    throw new ConfigError(`${setting.from}: an issuer identifier holds a control character.`)
  }
  if (value.includes(':') && !URL.canParse(value)) {
    throw new ConfigError(
      `${setting.from}: "${value}" holds a ":" but is not a URI. An issuer is a URL (https://auth.example.com) or a name without ":" (my-app).`,
    )
  }
  return value
}

/** A member name without case and `_`: `publisher_key` finds `publisherKey`. */
function fold(name: string): string {
  return name.replaceAll('_', '').toLowerCase()
}

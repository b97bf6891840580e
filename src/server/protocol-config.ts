import {
  DEFAULT_ACCESS_TOKEN_COOKIE_NAME,
  DEFAULT_COOKIE_NAME,
  HUB_PATH,
  type MercureHandlerOptions,
} from '../node/index.ts'
import { ConfigError } from './config-error.ts'
import { DEFAULT_PROTOCOLS, DEFAULT_TRUSTED_ISSUER } from './defaults.ts'
import { cookieName, list, type SettingSpec, type SettingText } from './setting-values.ts'
import { type TrustedIssuer, trustedIssuers } from './trusted-issuers-setting.ts'

// The settings of the Mercure protocols (issue #13): which versions the hub speaks, whose 1.0
// tokens it trusts, the resource identifier those tokens name, where the hub is reached, and the
// cookie a token comes in.

/** A Mercure protocol version: `'1.0'` (draft-dunglas-mercure-08) or `'0.x'` (draft-07). */
export type ProtocolVersion = NonNullable<MercureHandlerOptions['protocols']>[number]

/** The protocol settings (see `MercureServiceOptions`), validated. */
export interface ProtocolSettings {
  /** The Mercure protocols spoken. Defaults to both. */
  protocols: ProtocolVersion[]
  /** The issuers whose 1.0 tokens are trusted. Defaults to `ssehub`, bound to the hub's keys. */
  trustedIssuers: TrustedIssuer[]
  /** The resource identifier 1.0 tokens' `aud` must hold; `null` to derive it from each request. */
  resourceIdentifier: string | null
  /** The origins (lower-case) the hub answers at, others getting 421; `null` for any. */
  publicUrls: string[] | null
  /** The one cookie a token is read from; `null` for both defaults (one per protocol). */
  cookieName: string | null
}

/** Their flags, environment variables and help lines, as in `config.ts`'s table. */
export const PROTOCOL_SETTINGS = {
  protocols: {
    env: ['SSEHUB_PROTOCOLS'],
    arg: '<list>',
    help: 'Mercure versions spoken: 1.0, 0.x, or both',
    fallback: DEFAULT_PROTOCOLS,
  },
  'trusted-issuers': {
    env: ['SSEHUB_TRUSTED_ISSUERS', 'MERCURE_TRUSTED_ISSUERS'],
    arg: '<list>',
    help: 'issuers of 1.0 tokens, checked with the JWT keys (JSON: keys of their own)',
    fallback: DEFAULT_TRUSTED_ISSUER,
  },
  'resource-identifier': {
    env: ['SSEHUB_RESOURCE_IDENTIFIER', 'MERCURE_RESOURCE_IDENTIFIER'],
    arg: '<url>',
    help: `the aud of 1.0 tokens: https://<host>${HUB_PATH}`,
    shown: 'derived per request',
  },
  'public-urls': {
    env: ['SSEHUB_PUBLIC_URLS', 'MERCURE_PUBLIC_URLS'],
    arg: '<list>',
    help: 'origins the hub is reached at; 421 for any other',
    shown: 'any',
  },
  'cookie-name': {
    env: ['SSEHUB_COOKIE_NAME'],
    arg: '<name>',
    help: 'the one cookie a token is read from, any protocol',
    shown: `both: ${DEFAULT_ACCESS_TOKEN_COOKIE_NAME}, ${DEFAULT_COOKIE_NAME}`,
  },
} as const satisfies Record<string, SettingSpec>

type ProtocolSetting = keyof typeof PROTOCOL_SETTINGS

/**
 * Reads and checks the {@link ProtocolSettings}. `text` gives a setting's value (or its default)
 * and where it came from; `pick` the value only when it was set.
 *
 * @throws {ConfigError} naming the setting and the fix.
 */
export function protocolSettings(
  text: (name: ProtocolSetting) => SettingText,
  pick: (name: ProtocolSetting) => SettingText | undefined,
): ProtocolSettings {
  const identifier = pick('resource-identifier')
  const urls = pick('public-urls')
  const cookie = pick('cookie-name')
  return {
    protocols: protocols(text('protocols')),
    trustedIssuers: trustedIssuers(text('trusted-issuers')),
    resourceIdentifier: identifier === undefined ? null : resourceIdentifier(identifier),
    publicUrls: urls === undefined ? null : publicUrls(urls),
    cookieName: cookie === undefined ? null : cookieName(cookie),
  }
}

/**
 * What the settings make likely to go wrong without being wrong, one line each: a resource
 * identifier over plain HTTP or out of the public URLs, 1.0 settings while 1.0 is off.
 */
export function protocolWarnings(settings: ProtocolSettings): string[] {
  const warnings: string[] = []
  const pinned = settings.resourceIdentifier
  if (pinned !== null) {
    const url = new URL(pinned)
    // [spec] Tokens "MUST be used over an encryption layer": an http identifier means they are not.
    if (url.protocol !== 'https:') {
      warnings.push(
        `the resource identifier ${pinned} is not https: tokens for it travel in clear text`,
      )
    }
    if (settings.publicUrls !== null && !settings.publicUrls.includes(url.origin)) {
      warnings.push(
        `the resource identifier's origin ${url.origin} is not one of the public URLs: requests sent there get 421`,
      )
    }
  }
  if (!settings.protocols.includes('1.0')) {
    const unused = [
      ...(pinned === null ? [] : ['the resource identifier']),
      ...(settings.trustedIssuers.some((issuer) => issuer.issuer !== DEFAULT_TRUSTED_ISSUER)
        ? ['the trusted issuers']
        : []),
    ]
    if (unused.length > 0) {
      warnings.push(`Mercure 1.0 is off (--protocols 0.x): ${unused.join(' and ')} go unused`)
    }
  }
  return warnings
}

/** The startup log's line on the protocols, and its fields: names only, never a key. */
export function protocolSummary(settings: ProtocolSettings): {
  fields: {
    protocols: string[]
    trustedIssuers: string[]
    resourceIdentifier: string
    publicUrls: string[] | 'any'
  }
  message: string
} {
  const speaks1 = settings.protocols.includes('1.0')
  const fields = {
    protocols: settings.protocols,
    trustedIssuers: speaks1 ? settings.trustedIssuers.map(({ issuer }) => issuer) : [],
    resourceIdentifier:
      settings.resourceIdentifier === null
        ? `derived per request: <scheme>://<host>${HUB_PATH}`
        : `pinned: ${settings.resourceIdentifier}`,
    publicUrls: settings.publicUrls ?? ('any' as const),
  }
  const tokens = speaks1
    ? `; 1.0 tokens from ${fields.trustedIssuers.join(', ')}; resource identifier ${fields.resourceIdentifier}`
    : ''
  return { fields, message: `Mercure ${settings.protocols.join(' and ')}${tokens}` }
}

function protocols(setting: SettingText): ProtocolVersion[] {
  const found: ProtocolVersion[] = []
  for (const item of list(setting.value)) {
    if (item !== '1.0' && item !== '0.x') {
      throw new ConfigError(
        `${setting.from} lists "${item}": the protocols are 1.0 and 0.x. Write "1.0,0.x" for both, or one alone to turn the other off.`,
      )
    }
    if (!found.includes(item)) found.push(item)
  }
  if (found.length === 0) {
    throw new ConfigError(`${setting.from} must list 1.0, 0.x or both; got "${setting.value}".`)
  }
  return found
}

/** [spec] RFC 9728 §1.2: the resource identifier is an absolute URL with no fragment. */
function resourceIdentifier(setting: SettingText): string {
  const value = setting.value
  if (!/^https?:\/\//i.test(value) || !URL.canParse(value)) {
    throw new ConfigError(
      `${setting.from} must be an absolute http(s) URL, e.g. https://hub.example.com${HUB_PATH}; got "${value}".`,
    )
  }
  if (value.includes('#')) {
    throw new ConfigError(`${setting.from} must not have a fragment ("#…"); got "${value}".`)
  }
  // Kept as written: a token's `aud` is compared with it character for character.
  return value
}

function publicUrls(setting: SettingText): string[] {
  const found: string[] = []
  for (const item of list(setting.value)) {
    let url: URL | undefined
    try {
      url = new URL(item)
    } catch {}
    if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
      throw new ConfigError(
        `${setting.from}: "${item}" is not an absolute http(s) URL. Write its origin, e.g. "https://hub.example.com".`,
      )
    }
    if (url.href !== `${url.origin}/`) {
      throw new ConfigError(
        `${setting.from}: "${item}" has more than an origin (a path, query, fragment or user). Write scheme, host and port only, e.g. "${url.origin}".`,
      )
    }
    // `URL` lower-cases the scheme and host and drops a default port: the form requests are compared in.
    if (!found.includes(url.origin)) found.push(url.origin)
  }
  if (found.length === 0) {
    throw new ConfigError(`${setting.from} lists no URL; unset it to accept any.`)
  }
  return found
}

import { readFileSync } from 'node:fs'
import { ConfigError } from './config-error.ts'
import { parseDuration } from './duration.ts'

// The value parsers of the settings: each reads one flag's or environment variable's text and
// throws a ConfigError that names where it came from (`setting.from`) and the fix.

/** One setting of the command line, as the tables of `config.ts` and its siblings list it. */
export interface SettingSpec {
  /** Its environment variables: the first one set wins (a flag wins over all). */
  readonly env: readonly string[]
  /** Its argument, as `--help` shows it (`<dur>`). */
  readonly arg: string
  /** What it does, for `--help`; the default is added in parentheses. */
  readonly help: string
  /** The text read when it is not set, written from the `defaults.ts` of its floor. */
  readonly fallback?: string
  /** The default as `--help` states it, when not `fallback` itself. */
  readonly shown?: string
}

/** A setting's text and where it came from: the flag or variable, named in errors. */
export interface SettingText {
  readonly value: string
  readonly from: string
}

/** A setting's `--help` line: its help, and its default in parentheses. */
export function helpLine(spec: SettingSpec): string {
  const shown = spec.shown ?? spec.fallback
  return shown === undefined ? spec.help : `${spec.help} (${shown})`
}

/** A duration setting (`15s`, `500ms`…) of at least `minimum` ms; `null` for "off" when allowed. */
export function duration(setting: SettingText, minimum: number, allowOff: boolean): number | null {
  if (allowOff && (setting.value === 'off' || setting.value === '0')) return null
  const parsed = parseDuration(setting.value)
  if (parsed === undefined || parsed < minimum) {
    throw new ConfigError(
      `${setting.from} must be a duration of at least ${minimum}ms such as "15s"${allowOff ? ', or "off"' : ''}; got "${setting.value}".`,
    )
  }
  return parsed
}

/** A whole-number setting of at least `minimum`; `orElse` names the other spellings accepted. */
export function integer(setting: SettingText, minimum: number, orElse = ''): number {
  const value = Number(setting.value)
  if (!/^\d+$/.test(setting.value) || !Number.isSafeInteger(value) || value < minimum) {
    throw new ConfigError(
      `${setting.from} must be a whole number of at least ${minimum}${orElse}; got "${setting.value}".`,
    )
  }
  return value
}

/** A true/false setting (`1`, `true`, `yes`, `on` and their opposites). */
export function boolean(setting: SettingText): boolean {
  const value = setting.value.toLowerCase()
  if (['1', 'true', 'yes', 'on'].includes(value)) return true
  if (['0', 'false', 'no', 'off'].includes(value)) return false
  throw new ConfigError(`${setting.from} must be true or false; got "${setting.value}".`)
}

/** The items of a list setting, separated by commas or spaces. */
export function list(value: string): string[] {
  return value.split(/[\s,]+/).filter((item) => item !== '')
}

/** A list of origins (`https://example.com`), or `*` alone. */
export function origins(setting: SettingText): string[] | '*' {
  const items = list(setting.value)
  if (items.includes('*')) {
    if (items.length > 1)
      throw new ConfigError(`${setting.from}: "*" cannot be combined with other origins.`)
    return '*'
  }
  for (const item of items) {
    let parsed: URL | undefined
    try {
      parsed = new URL(item)
    } catch {}
    if (parsed === undefined || parsed.origin !== item) {
      throw new ConfigError(
        `${setting.from}: "${item}" is not an origin. Write scheme, host and port only, e.g. "https://example.com".`,
      )
    }
  }
  return items
}

/** A JWT `alg` allow-list; `none` is refused. `null` when not set. */
export function algorithms(setting: SettingText | undefined): string[] | null {
  if (setting === undefined) return null
  const items = list(setting.value)
  if (items.some((alg) => alg.toLowerCase() === 'none')) {
    throw new ConfigError(
      `${setting.from} lists "none": unsigned tokens are never accepted. Remove it.`,
    )
  }
  return items
}

/** A cookie name made of RFC 6265 token characters. */
export function cookieName(setting: SettingText): string {
  // RFC 6265 token characters: anything else would break the Cookie header parsing.
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(setting.value)) {
    throw new ConfigError(`${setting.from} is not a valid cookie name: "${setting.value}".`)
  }
  return setting.value
}

/** A TLS certificate or key file's bytes. */
export function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path)
  } catch (error) {
    throw new ConfigError(
      `Cannot read the TLS ${what} at "${path}": ${(error as NodeJS.ErrnoException).code ?? 'error'}. Check the path and its permissions.`,
    )
  }
}

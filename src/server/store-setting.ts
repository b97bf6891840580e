import { ConfigError } from './config-error.ts'
import type { SettingText } from './setting-values.ts'

/** Where the history is kept. */
export type StoreConfig =
  | { kind: 'memory' }
  | { kind: 'sqlite'; path: string }
  | { kind: 'redis'; url: string }

/**
 * Reads the `--store` setting: `memory`, `sqlite:<path>` or a `redis://` URL.
 *
 * @throws {ConfigError} naming the setting and the forms it takes.
 */
export function store(setting: SettingText): StoreConfig {
  const value = setting.value
  if (value === 'memory') return { kind: 'memory' }
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length)
    if (path === '')
      throw new ConfigError(
        `${setting.from}: give the database path, e.g. "sqlite:./data/ssehub.db".`,
      )
    return { kind: 'sqlite', path }
  }
  if (value.startsWith('redis://') || value.startsWith('rediss://'))
    return { kind: 'redis', url: value }
  throw new ConfigError(
    `${setting.from} must be "memory", "sqlite:<path>" or "redis://host:port"; got "${value}".`,
  )
}

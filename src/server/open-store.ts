import { createMemoryStore } from '../storage/memory.ts'
import { createSqliteStore } from '../storage/sqlite.ts'
import type { EventStore } from '../storage/store.ts'
import { ConfigError, type StoreConfig } from './config.ts'

/** Opens the configured store with the configured retention. */
export function openStore(
  config: StoreConfig,
  retention: { maxUpdates: number; maxAgeMs: number | null },
): EventStore {
  switch (config.kind) {
    case 'memory':
      return createMemoryStore(retention)
    case 'sqlite':
      return createSqliteStore({ path: config.path, ...retention })
    case 'redis':
      throw new ConfigError(
        'SSEHUB_STORE=redis://… is not available in this version yet; use "sqlite:<path>" (durable, one node) or "memory".',
      )
  }
}

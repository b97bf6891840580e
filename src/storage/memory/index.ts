/**
 * ssehub/storage/memory: the history in this process's memory, lost on restart (also exported
 * by `ssehub/hub`).
 *
 * @module
 */
export { createMemoryStore, MemoryStore, type MemoryStoreOptions } from '../memory.ts'
export type { RetentionOptions } from '../retention.ts'

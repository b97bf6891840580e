import { readFileSync } from 'node:fs'

/**
 * File descriptors kept out of the default connection cap (a quarter of a limit below 1024): the
 * store (SQLite's file and journal, or Redis's connections), JWKS fetches, static files, logs,
 * Node's own.
 */
const RESERVED_FILE_DESCRIPTORS = 256

/**
 * This process's soft limit of open files (`ulimit -n`), read from `/proc/self/limits` (Linux);
 * `null` where that cannot be read or says "unlimited".
 */
export function openFilesLimit(limitsFile = '/proc/self/limits'): number | null {
  let text: string
  try {
    text = readFileSync(limitsFile, 'utf8')
  } catch {
    return null
  }
  const soft = /^Max open files\s+(\d+)/m.exec(text)?.[1]
  return soft === undefined ? null : Number(soft)
}

/**
 * The default connection cap for a limit of open files: 90 % of it, and at least
 * {@link RESERVED_FILE_DESCRIPTORS} under it (a quarter under a small limit), so the hub reaches
 * its cap, and refuses new connections at accept, before the process runs out of descriptors for
 * the connections it serves: 18000 for a limit of 20000, 768 for 1024. `null` (no cap) when the
 * limit is unknown.
 */
export function defaultMaxConnections(limit: number | null = openFilesLimit()): number | null {
  if (limit === null) return null
  const reserve = Math.max(limit * 0.1, Math.min(RESERVED_FILE_DESCRIPTORS, limit / 4))
  return Math.max(1, Math.floor(limit - reserve))
}

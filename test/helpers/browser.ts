import { existsSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { type Browser, chromium } from 'playwright-core'

/** Debian's Chromium, which playwright-core drives (it never downloads a browser of its own). */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

/** Where browser tests save screenshots for people to look at. */
export const ARTIFACTS_DIR = join(import.meta.dirname, '..', '..', 'test-artifacts')

/**
 * Why browser tests cannot run here, or `null` when they can. With `REQUIRE_BROWSER=1` (CI) a
 * missing browser is an error, not a skip: a skipped test must never hide a failure.
 */
export function browserSkipReason(): string | null {
  if (existsSync(CHROMIUM_PATH)) return null
  const reason = `no Chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CHROMIUM_PATH)`
  if (process.env['REQUIRE_BROWSER'] === '1') throw new Error(`REQUIRE_BROWSER=1 but ${reason}`)
  process.stderr.write(`browser tests skipped: ${reason}\n`)
  return reason
}

/** Launches headless Chromium with the flags this closed network needs. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  })
}

/** The path of a screenshot artifact, creating the folder. */
export function artifactPath(name: string): string {
  mkdirSync(ARTIFACTS_DIR, { recursive: true })
  return join(ARTIFACTS_DIR, name)
}

import type { Progress } from '../load/progress.ts'
import { unavailable } from './hubs.ts'
import type { SoakOptions } from './options.ts'
import { runStore } from './store-run.ts'
import { notRun, type StoreResult } from './verdict.ts'

/** Runs every selected store one after another, showing them on `progress`; returns results. */
export async function runSoak(options: SoakOptions, progress: Progress): Promise<StoreResult[]> {
  const log = (line: string): void => progress.log(line)
  log(
    `soak: ${options.stores.join(', ')}, ${options.durationMs / 1000} s each, seed ${options.seed}`,
  )
  const results: StoreResult[] = []
  for (const store of options.stores) {
    let result: StoreResult
    try {
      const reason = await unavailable(store)
      if (reason !== null) {
        log(`soak ${store}: skipped: ${reason}`)
        results.push(notRun(store, 'skip', reason))
        continue
      }
      result = await runStore(store, options, progress)
    } catch (error) {
      result = notRun(store, 'fail', (error as Error).message.slice(0, 2000))
    }
    log(
      `soak ${store}: ${result.status}${result.failures.length > 0 ? ` (${result.failures.length} failures)` : ''}`,
    )
    results.push(result)
  }
  return results
}

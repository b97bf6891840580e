import type { SoakOptions } from './options.ts'
import { heavySize, ordinarySize } from './payload.ts'
import type { Lane } from './publisher.ts'
import type { Random } from './random.ts'

/**
 * Publishes from every lane in parallel until `until()`, each lane at an even share of `rate`
 * updates per second (sizes from {@link ordinarySize}). Resolves once every lane's last update
 * was acknowledged or given up.
 */
export async function publishSteadily(
  lanes: readonly Lane[],
  rate: number,
  until: () => number,
  random: Random,
): Promise<void> {
  if (rate <= 0) return
  const intervalMs = (lanes.length * 1000) / rate
  await Promise.all(
    lanes.map(async (lane) => {
      await sleep(random.int(0, Math.floor(intervalMs)))
      while (Date.now() < until()) {
        const began = Date.now()
        await lane.publishNext(ordinarySize(random))
        await sleep(Math.max(0, intervalMs - (Date.now() - began)))
      }
    }),
  )
}

/**
 * Every `burstEveryMs` until `until()`, every lane at once publishes `burstDepth` updates one
 * after another: 64 concurrent publishers by default, every third burst heavy (16–32 KiB each).
 * A burst starts only after the previous one was acknowledged.
 */
export async function publishBursts(
  lanes: readonly Lane[],
  options: Pick<SoakOptions, 'burstEveryMs' | 'burstDepth'>,
  until: () => number,
  random: Random,
): Promise<void> {
  for (let burst = 0; Date.now() + options.burstEveryMs < until(); burst++) {
    await sleep(options.burstEveryMs)
    const heavy = burst % 3 === 2
    await Promise.all(
      lanes.map(async (lane) => {
        for (let n = 0; n < options.burstDepth; n++) {
          await lane.publishNext(heavy ? heavySize(random) : ordinarySize(random))
        }
      }),
    )
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

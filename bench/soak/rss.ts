import { readFileSync } from 'node:fs'

/** Samples taken in the first seconds after a (re)start are left out of the flatness check. */
const WARM_UP_MS = 15_000
const MIB = 1024 * 1024

/** One reading of a hub process's resident set. */
export interface RssSample {
  /** Milliseconds since the store's load started. */
  readonly at: number
  readonly node: string
  readonly bytes: number
  /** Whether the process had been up for at least 15 s (a fresh process is still warming up). */
  readonly warm: boolean
}

/** The verdict on one node's RSS over a run. */
export interface RssSummary {
  readonly node: string
  /** Mean RSS of each minute of load (the last one may be partial), in MiB. */
  readonly perMinuteMiB: number[]
  readonly maxMiB: number
  /** Whether every sample stayed under the bound. */
  readonly bounded: boolean
  /**
   * Last minute's mean over the second minute's, both over warm samples: `null` for runs under
   * 3 minutes, where there is no second and last minute to compare.
   */
  readonly lastOverSecond: number | null
  /** Within 10 % (or `null` when not measured). */
  readonly flat: boolean | null
}

/** What {@link startRssSampler} needs of a hub: its name and its current pid. */
export interface Sampled {
  readonly name: string
  readonly pid: number | null
  readonly startedAt: number
}

/** Samples every second until stopped. */
export interface RssSampler {
  readonly samples: readonly RssSample[]
  stop(): void
}

/** Reads each node's RSS every second, timed from `since` (`Date.now()` ms). */
export function startRssSampler(nodes: readonly Sampled[], since: number): RssSampler {
  const samples: RssSample[] = []
  const timer = setInterval(() => {
    for (const node of nodes) {
      const bytes = node.pid === null ? null : readRss(node.pid)
      if (bytes === null) continue
      const now = Date.now()
      samples.push({ at: now - since, node: node.name, bytes, warm: isWarm(now - node.startedAt) })
    }
  }, 1000)
  return { samples, stop: () => clearInterval(timer) }
}

/** A process's VmRSS in bytes, from `/proc/<pid>/status`; `null` when it is gone. */
export function readRss(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))
    return match === null ? null : Number(match[1]) * 1024
  } catch {
    return null
  }
}

/** Summarizes one node's samples over a load of `durationMs`. */
export function summarizeRss(
  node: string,
  samples: readonly RssSample[],
  durationMs: number,
  boundMiB: number,
): RssSummary {
  const own = samples.filter((sample) => sample.node === node && sample.at <= durationMs)
  const minutes = Math.max(1, Math.ceil(durationMs / 60_000))
  const mean = (list: readonly RssSample[]): number =>
    list.length === 0 ? 0 : list.reduce((sum, sample) => sum + sample.bytes, 0) / list.length / MIB
  const inMinute = (minute: number, warmOnly: boolean): RssSample[] =>
    own.filter(
      (sample) =>
        sample.at >= minute * 60_000 &&
        sample.at < (minute + 1) * 60_000 &&
        (!warmOnly || sample.warm),
    )
  const perMinuteMiB = Array.from({ length: minutes }, (_, minute) =>
    round1(mean(inMinute(minute, false))),
  )
  const maxMiB = round1(Math.max(0, ...own.map((sample) => sample.bytes / MIB)))
  let lastOverSecond: number | null = null
  if (durationMs >= 180_000) {
    const second = mean(inMinute(1, true))
    const last = mean(inMinute(minutes - 1, true))
    if (second > 0 && last > 0) lastOverSecond = Math.round((last / second) * 1000) / 1000
  }
  return {
    node,
    perMinuteMiB,
    maxMiB,
    bounded: maxMiB <= boundMiB,
    lastOverSecond,
    flat: lastOverSecond === null ? null : Math.abs(lastOverSecond - 1) <= 0.1,
  }
}

/** Whether a sample taken `upMs` after its process started counts as warm. */
function isWarm(upMs: number): boolean {
  return upMs >= WARM_UP_MS
}

function round1(value: number): number {
  return Math.round(value * 10) / 10
}

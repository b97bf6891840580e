// Reads a server's CPU time and resident memory from /proc, so every peer (Node or nginx) is
// measured the same way from the outside, without cooperation from the process.

import { readdirSync, readFileSync } from 'node:fs'

/** CPU time and memory of a set of processes, summed. */
export interface ProcSample {
  /** User + system CPU time, in milliseconds. */
  cpuMs: number
  /** Resident set size, in bytes. */
  rssBytes: number
}

// USER_HZ is 100 on every Linux this runs on (getconf CLK_TCK); /proc/<pid>/stat counts in it.
const TICK_MS = 10

/** One process's CPU time and RSS; zeros when it is gone. */
export function readProc(pid: number): ProcSample {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    // The command name is in parentheses and may contain spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields 14 and 15 of stat(5) (utime, stime) are the 12th and 13th after the name.
    const ticks = Number(fields[11]) + Number(fields[12])
    const status = readFileSync(`/proc/${pid}/status`, 'latin1')
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status)
    return { cpuMs: ticks * TICK_MS, rssBytes: rss ? Number(rss[1]) * 1024 : 0 }
  } catch {
    return { cpuMs: 0, rssBytes: 0 }
  }
}

/** The sum of {@link readProc} over `pids`. */
export function readProcs(pids: readonly number[]): ProcSample {
  const total = { cpuMs: 0, rssBytes: 0 }
  for (const pid of pids) {
    const sample = readProc(pid)
    total.cpuMs += sample.cpuMs
    total.rssBytes += sample.rssBytes
  }
  return total
}

/** The pids whose parent is `parent` (nginx's workers under its master). */
export function childPids(parent: number): number[] {
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === parent) children.push(Number(entry))
    } catch {
      // The process ended between readdir and read.
    }
  }
  return children
}

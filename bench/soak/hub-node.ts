import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { freePort } from '../../test/helpers/redis.ts'

const CLI = new URL('../../src/server/cli.ts', import.meta.url).pathname
/** How much of a hub's output is kept for a failure message. */
const OUTPUT_TAIL = 64 * 1024
/** A loaded two-core machine can take tens of seconds to start tsx. */
const START_TIMEOUT_MS = 60_000

// Hubs still running when this process exits (an uncaught error, Ctrl-C) are killed by pid.
const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** Options of {@link createHubNode}. */
export interface HubNodeOptions {
  /** A name for progress lines and failures, such as `sqlite` or `redis-b`. */
  name: string
  /** Extra environment for the hub (store, keys, queue bounds…), added to this process's. */
  env: Record<string, string>
  /** Extra CLI flags (`--history-size 5000`…). */
  args: readonly string[]
  /** The CLI entry point to run. Defaults to this checkout's `src/server/cli.ts`. */
  cli?: string | undefined
}

/**
 * One hub process started with the real CLI (as test/helpers/hub-process.ts does), on a loopback
 * port chosen once and kept across restarts, so clients reconnect to the same URL.
 */
export interface HubNode {
  readonly name: string
  /** `http://127.0.0.1:<port>/.well-known/mercure` */
  readonly hubUrl: string
  /** The pid of the running process, or `null` while it is down. */
  readonly pid: number | null
  /** When the running process started listening (`Date.now()` ms). */
  readonly startedAt: number
  /** Whether it is being stopped or started now (connections ending then are expected). */
  readonly restarting: boolean
  /** Starts the process and resolves once it listens. */
  start(): Promise<void>
  /** Sends `signal` to its pid and waits for it to exit. */
  stop(signal: NodeJS.Signals): Promise<void>
  /** Stops it with `signal` and starts it again on the same port; `restarting` throughout. */
  restart(signal: NodeJS.Signals): Promise<void>
  /** Subscriber disconnections by reason, summed over every process this node ran. */
  disconnections(): Promise<Record<string, number>>
  /** The last lines it printed, for failure messages. */
  output(): string
}

/** Creates a hub node on a free port; call `start()` to run it. */
export async function createHubNode(options: HubNodeOptions): Promise<HubNode> {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let child: ChildProcess | null = null
  let output = ''
  let startedAt = 0
  let restarting = false
  // Counters of processes that ended, and the last scrape of the running one: a SIGKILLed
  // process cannot be asked, so its figures are those of its last scrape.
  const ended: Record<string, number> = {}
  let current: Record<string, number> = {}

  const collect = (chunk: string): void => {
    output = (output + chunk).slice(-OUTPUT_TAIL)
  }

  const start = async (): Promise<void> => {
    restarting = true
    const process_ = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        options.cli ?? CLI,
        '--port',
        String(port),
        '--host',
        '127.0.0.1',
        ...options.args,
      ],
      { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    child = process_
    running.add(process_)
    process_.once('exit', () => running.delete(process_))
    process_.stdout?.setEncoding('utf8').on('data', collect)
    process_.stderr?.setEncoding('utf8').on('data', collect)
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          process_.kill('SIGKILL')
          reject(new Error(`${options.name}: the hub did not start within 60 s: ${output}`))
        }, START_TIMEOUT_MS)
        let head = ''
        const check = (chunk: string): void => {
          head = (head + chunk).slice(-4096)
          if (!head.includes('"url":"http')) return
          clearTimeout(timer)
          process_.stdout?.off('data', check)
          process_.off('exit', exited)
          resolve()
        }
        const exited = (code: number | null): void => {
          clearTimeout(timer)
          reject(new Error(`${options.name}: the hub exited with ${code}: ${output.slice(-4000)}`))
        }
        process_.stdout?.on('data', check)
        process_.once('exit', exited)
      })
    } finally {
      restarting = false
    }
    startedAt = Date.now()
    current = {}
  }

  const scrape = async (): Promise<void> => {
    if (child === null || restarting) return
    try {
      const res = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(5000) })
      const text = await res.text()
      const counts: Record<string, number> = {}
      for (const match of text.matchAll(
        /^ssehub_disconnections_total\{reason="([^"]+)"\} (\d+)/gm,
      )) {
        counts[match[1] as string] = Number(match[2])
      }
      current = counts
    } catch {
      // Down or busy: keep the last scrape.
    }
  }

  const stop = async (signal: NodeJS.Signals, keepRestarting = false): Promise<void> => {
    const stopping = child
    if (stopping === null) return
    await scrape()
    restarting = true
    try {
      if (stopping.exitCode === null && stopping.signalCode === null) {
        const exited = once(stopping, 'exit')
        stopping.kill(signal)
        await exited
      }
    } finally {
      child = null
      restarting = keepRestarting
      for (const [reason, count] of Object.entries(current)) {
        ended[reason] = (ended[reason] ?? 0) + count
      }
      current = {}
    }
  }

  return {
    name: options.name,
    hubUrl: `${base}/.well-known/mercure`,
    get pid() {
      return child?.pid ?? null
    },
    get startedAt() {
      return startedAt
    },
    get restarting() {
      return restarting
    },
    start,
    stop: (signal) => stop(signal),
    async restart(signal) {
      await stop(signal, true)
      await start()
    },
    async disconnections() {
      await scrape()
      const total: Record<string, number> = { ...ended }
      for (const [reason, count] of Object.entries(current)) {
        total[reason] = (total[reason] ?? 0) + count
      }
      return total
    },
    output: () => output,
  }
}

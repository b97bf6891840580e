// One forked load-generator worker process (worker.ts), seen from the parent: spawning it, and
// asking it something over IPC with a deadline. The generator (generator.ts) holds a set of them.

import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { TickReport, WorkerCommand, WorkerReport } from './protocol.ts'

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const { BENCH_WORKER_NODE_ARGS: WORKER_NODE_ARGS } = process.env

/** A worker process, its latest progress report, and the requests waiting for its answers. */
export interface WorkerProcess {
  child: ChildProcess
  tick: TickReport
  waiters: Map<string, Array<{ resolve: (r: WorkerReport) => void; reject: (e: Error) => void }>>
}

/** A progress report of nothing yet. */
export function emptyTick(): TickReport {
  return { type: 'tick', connected: 0, failed: 0, received: 0, unique: 0, dropped: 0 }
}

/** Forks a worker; its ticks update `tick`, its other reports answer {@link request}s in order. */
export function spawnWorker(): WorkerProcess {
  const child = fork(WORKER, [], {
    cwd: ROOT,
    // BENCH_WORKER_NODE_ARGS adds Node flags to the workers (e.g. `--cpu-prof`, to profile them).
    execArgv: ['--import', 'tsx', ...(WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean)],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const worker: WorkerProcess = { child, tick: emptyTick(), waiters: new Map() }
  const failAll = (error: Error): void => {
    for (const list of worker.waiters.values()) for (const waiter of list) waiter.reject(error)
    worker.waiters.clear()
  }
  child.on('message', (report: WorkerReport) => {
    if (report.type === 'tick') {
      worker.tick = report
      return
    }
    if (report.type === 'error') {
      failAll(new Error(`load worker ${child.pid}: ${report.message}`))
      return
    }
    const list = worker.waiters.get(report.type)
    list?.shift()?.resolve(report)
  })
  child.on('exit', (code, signal) => {
    failAll(new Error(`load worker ${child.pid} exited (${signal ?? code})`))
  })
  return worker
}

/** Sends `command` and resolves with the next report of `replyType`; rejects after `timeoutMs`. */
export function request<R extends WorkerReport>(
  worker: WorkerProcess,
  command: WorkerCommand,
  replyType: R['type'],
  timeoutMs = 120_000,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(
        new Error(
          `load worker ${worker.child.pid} did not answer ${command.type} in ${timeoutMs} ms`,
        ),
      )
    }, timeoutMs)
    const list = worker.waiters.get(replyType) ?? []
    worker.waiters.set(replyType, list)
    list.push({
      resolve: (report) => {
        clearTimeout(timer)
        resolve(report as R)
      },
      reject: (error) => {
        clearTimeout(timer)
        reject(error)
      },
    })
    worker.child.send(command)
  })
}

/** Asks a worker to exit, and kills it if it has not after 3 s; resolves once it is gone. */
export function endWorker(worker: WorkerProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    const { child } = worker
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    if (child.connected) child.send({ type: 'exit' } satisfies WorkerCommand)
    else child.kill('SIGTERM')
  })
}

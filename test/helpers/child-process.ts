import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process'
import { once } from 'node:events'

// Processes the tests start (the CLI, the examples, `next build`, `deno check`): their output
// collected, a line awaited with a deadline, and a stop that waits for the exit.

/** A child process whose stdout and stderr are collected together. */
export interface CollectedChild {
  readonly child: ChildProcess
  /** Everything it wrote to stdout and stderr so far. */
  output(): string
}

/** Spawns `command` with stdin closed, collecting its stdout and stderr as UTF-8 text. */
export function spawnCollecting(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio'> = {},
): CollectedChild {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  const collect = (chunk: string): void => {
    output += chunk
  }
  child.stdout?.setEncoding('utf8').on('data', collect)
  child.stderr?.setEncoding('utf8').on('data', collect)
  return { child, output: () => output }
}

/**
 * Resolves with the first match of `pattern` in what `started` writes to stdout. Rejects, with
 * everything it wrote, when it exits first or when `timeoutMs` pass (then it is killed).
 *
 * @param what Names the process in the rejection, e.g. `'the hub'`.
 */
export function waitForOutput(
  started: CollectedChild,
  pattern: RegExp,
  what: string,
  timeoutMs: number,
): Promise<RegExpExecArray> {
  const { child, output } = started
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${what} did not start within ${timeoutMs / 1000} s: ${output()}`))
    }, timeoutMs)
    const check = (): void => {
      const match = pattern.exec(output())
      if (match === null) return
      clearTimeout(timer)
      child.stdout?.off('data', check)
      child.off('exit', exited)
      resolve(match)
    }
    const exited = (code: number | null): void => {
      clearTimeout(timer)
      reject(new Error(`${what} exited with ${code}: ${output()}`))
    }
    child.stdout?.on('data', check)
    child.once('exit', exited)
    check()
  })
}

/** Sends `signal` and resolves with the exit code (`null` when a signal ended it). */
export async function stopChild(
  child: ChildProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const exited = once(child, 'exit')
  child.kill(signal)
  const [code] = (await exited) as [number | null]
  return code
}

/**
 * Runs `command` to its end (killed after `timeoutMs`); resolves with its exit code and what it
 * wrote on stdout and stderr together.
 */
export async function runToEnd(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio'> & { timeoutMs: number },
): Promise<{ code: number | null; output: string }> {
  const { timeoutMs, ...spawnOptions } = options
  const { child, output } = spawnCollecting(command, args, spawnOptions)
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  try {
    const [code] = (await once(child, 'exit')) as [number | null]
    return { code, output: output() }
  } finally {
    clearTimeout(timer)
  }
}

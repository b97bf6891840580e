// What every benchmark peer offers the scenarios: where it listens, how to subscribe and publish
// to it, which processes to measure, and how to stop it. One file per peer implements it.

import { readFileSync } from 'node:fs'
import { request } from 'node:http'
import { createServer } from 'node:net'
import type { PublishTemplate } from '../load/protocol.ts'

/**
 * The peers a run can include: one node each, or (`-redis`) two nodes sharing a Redis, with
 * subscribers on one and the publisher on the other.
 */
export type PeerName =
  | 'ssehub-sqlite'
  | 'ssehub-memory'
  | 'raw-node'
  | 'nchan'
  | 'ssehub-redis'
  | 'nchan-redis'

/** The single-node peers, in the order of a run: ssehub first, the references after. */
export const ALL_PEERS: readonly PeerName[] = [
  'ssehub-sqlite',
  'ssehub-memory',
  'raw-node',
  'nchan',
]

/** Every peer name, the two-node ones included. */
export const PEER_NAMES: readonly PeerName[] = [...ALL_PEERS, 'ssehub-redis', 'nchan-redis']

/** What a scenario may ask of a peer when it starts. */
export interface PeerOptions {
  /** Updates kept per topic (Nchan's buffer, the raw peer's ring), at least. Defaults to `1000`. */
  history?: number
}

/**
 * Two nodes of one peer as a single {@link RunningPeer}: subscribers on `subscriberNode`,
 * publishes to `publisherNode`; both measured; `cleanup` runs after both stopped.
 */
export function pairOf(
  name: PeerName,
  publisherNode: RunningPeer,
  subscriberNode: RunningPeer,
  cleanup: () => Promise<void>,
): RunningPeer {
  return {
    ...subscriberNode,
    name,
    publishPort: publisherNode.port,
    pids: () => [...publisherNode.pids(), ...subscriberNode.pids()],
    publishTemplate: (wildcard) => publisherNode.publishTemplate(wildcard),
    publishedId: (body) => publisherNode.publishedId(body),
    async heapUsedBytes() {
      const [a, b] = await Promise.all([
        publisherNode.heapUsedBytes(),
        subscriberNode.heapUsedBytes(),
      ])
      return a === null || b === null ? null : a + b
    },
    async stop() {
      await Promise.all([publisherNode.stop(), subscriberNode.stop()])
      await cleanup()
    },
  }
}

/** A peer, started. Topics are short names (`t17`); each peer maps them to its own form. */
export interface RunningPeer {
  readonly name: PeerName
  readonly host: string
  /** Where subscribers connect. */
  readonly port: number
  /** Where publishers connect: `port`, or the other node of a pair. */
  readonly publishPort: number
  /** The processes whose CPU and RSS are the peer's (nginx: master and workers). */
  pids(): number[]
  /** Request target subscribing to one topic. */
  subscribePath(topic: string): string
  /** Request target subscribing to every topic (`*`, or Nchan's `all` channel). */
  wildcardPath(): string
  /**
   * How to publish one update to `{topic}`. With `wildcard`, it must also reach the subscribers
   * of {@link wildcardPath} (Nchan has no wildcard: it publishes to the topic and to `all`).
   */
  publishTemplate(wildcard?: boolean): PublishTemplate
  /** Request headers that resume a subscription after the update with this id. */
  resumeHeaders(id: string): Record<string, string>
  /** The id the peer gave an update, from its publish response body. */
  publishedId(body: string): string
  /** The JavaScript heap in use, for Node peers; `null` for others. */
  heapUsedBytes(): Promise<number | null>
  /**
   * Resolves once what the subscriptions set off has settled (ssehub with
   * `SSEHUB_BENCH_OPERATORS=1`: the subscribe webhooks delivered), so a scenario measures its
   * load, not that burst. Absent for peers with nothing to wait for.
   */
  settle?(): Promise<void>
  /** Stops the peer by pid and releases its files; resolves when its processes are gone. */
  stop(): Promise<void>
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** GETs `path` and resolves with the status and body; rejects on a network error. */
export function httpGet(
  host: string,
  port: number,
  path: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false, timeout: 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      res.on('error', reject)
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

/** Polls `path` until the server answers at all, failing after `timeoutMs`. */
export async function waitForHttp(
  host: string,
  port: number,
  path: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      await httpGet(host, port, path)
      return
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(
          `nothing answered on ${host}:${port}${path} within ${timeoutMs} ms: ${error}`,
        )
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

/** Whether process `pid` still runs (a zombie, which no one may reap here, counts as gone). */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat[stat.lastIndexOf(')') + 2] !== 'Z'
  } catch {
    return false
  }
}

/** Sends `signal` to `pid`, then SIGKILL after `graceMs`; resolves once `gone()` holds. */
export async function stopPid(
  pid: number,
  signal: NodeJS.Signals,
  gone: () => boolean,
  graceMs = 5000,
): Promise<void> {
  try {
    process.kill(pid, signal)
  } catch {
    return
  }
  const deadline = Date.now() + graceMs
  while (!gone()) {
    if (Date.now() > deadline) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Already gone.
      }
      await new Promise((resolve) => setTimeout(resolve, 100))
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

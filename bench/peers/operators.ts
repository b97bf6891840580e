// What an operator adds to a running hub, for the benchmarks to measure its cost: the live
// dashboard open (a viewer reading `/admin/stats`, the stream the page reads, once a second) and
// presence webhooks on (every subscribe and unsubscribe POSTed, signed, to a receiver that
// answers 204). `SSEHUB_BENCH_OPERATORS=1` turns both on for the ssehub peers; issue #14 asks
// that fan-out stays within 5 % of a run without them.

import { createServer, type IncomingMessage, request, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** The admin token and webhook secret of a bench run: throwaway values on loopback. */
const ADMIN_TOKEN = 'ssehub-bench-admin-0123456789-abcdefghijkl'
const WEBHOOK_SECRET = 'ssehub-bench-webhooks-0123456789-abcdefghijkl'

/** Whether this run turns the operator features on (`SSEHUB_BENCH_OPERATORS=1`). */
export function operatorsWanted(): boolean {
  const value = process.env['SSEHUB_BENCH_OPERATORS']
  return value === '1' || value === 'true'
}

/** The webhook receiver and the dashboard viewer of one peer. */
export interface Operators {
  /** The settings the hub starts with. */
  readonly env: Record<string, string>
  /** Opens the dashboard's statistics stream on the started hub. */
  watch(host: string, port: number): Promise<void>
  /** What they saw: webhook POSTs received, dashboard events read. */
  counts(): { webhooks: number; dashboardEvents: number }
  /**
   * Resolves once no webhook arrived for 200 ms (the burst a wave of subscriptions sets off has
   * been delivered), or after 10 s.
   */
  settle(): Promise<void>
  /** Closes the viewer and the receiver. */
  stop(): Promise<void>
}

/** Starts the webhook receiver on a free loopback port; {@link Operators.watch} adds the viewer. */
export async function startOperators(host: string): Promise<Operators> {
  let webhooks = 0
  let dashboardEvents = 0
  const receiver: Server = createServer((req: IncomingMessage, res) => {
    // Read and drop the body: the hub's cost is what is measured, not the receiver's.
    req.resume()
    req.on('end', () => {
      webhooks++
      res.writeHead(204)
      res.end()
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, host, resolve))
  const { port } = receiver.address() as AddressInfo
  let viewer: { destroy(): void } | null = null

  return {
    env: {
      SSEHUB_ADMIN_TOKEN: ADMIN_TOKEN,
      SSEHUB_WEBHOOK_URL: `http://${host}:${port}/presence`,
      SSEHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
    },
    watch(hubHost, hubPort) {
      return new Promise((resolve, reject) => {
        const req = request(
          {
            host: hubHost,
            port: hubPort,
            path: '/admin/stats',
            headers: { authorization: `Bearer ${ADMIN_TOKEN}`, accept: 'text/event-stream' },
            agent: false,
          },
          (res) => {
            if (res.statusCode !== 200) {
              res.resume()
              reject(new Error(`the dashboard stream answered ${res.statusCode}`))
              return
            }
            res.setEncoding('utf8')
            res.on('data', (chunk: string) => {
              dashboardEvents += (chunk.match(/^data:/gm) ?? []).length
            })
            res.on('error', () => {})
            resolve()
          },
        )
        req.on('error', reject)
        req.end()
        viewer = req
      })
    },
    counts: () => ({ webhooks, dashboardEvents }),
    async settle() {
      const deadline = Date.now() + 10_000
      let seen = -1
      let quiet = 0
      while (quiet < 4 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50))
        quiet = webhooks === seen ? quiet + 1 : 0
        seen = webhooks
      }
    },
    async stop() {
      viewer?.destroy()
      receiver.closeAllConnections()
      await new Promise((resolve) => receiver.close(resolve))
    },
  }
}

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import type { ClusterView } from '../../src/hub/index.ts'
import type { Logger } from '../../src/server/logger.ts'
import type { createMetrics } from '../../src/server/metrics.ts'
import type { PresenceWebhookOptions } from '../../src/server/presence-webhooks.ts'
import type { WebhookEvent, WebhookSubscriber } from '../../src/server/webhook-event.ts'
import {
  verifyWebhookSignature,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
} from '../../src/server/webhook-signature.ts'

// Fakes shared by the unit tests of the presence webhooks (src/server/presence-webhooks*.test.ts):
// a signature-checking receiver, a capturing logger, subscribers, a cluster, and waits.

export const SECRET = 'presence-webhooks-test-secret-0123456789'

export interface Received {
  readonly path: string
  readonly id: string
  readonly body: string
  readonly event: WebhookEvent
  readonly signed: boolean
}

/** A receiver on 127.0.0.1; `answer` decides each request's fate (it may never answer). */
export async function startReceiver(
  answer: (req: IncomingMessage, res: ServerResponse, n: number) => void = (_req, res) =>
    res.end('ok'),
): Promise<{
  url: string
  received: Received[]
  close(): Promise<void>
}> {
  const received: Received[] = []
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      received.push({
        path: req.url ?? '',
        id: String(req.headers[WEBHOOK_ID_HEADER]),
        body,
        event: JSON.parse(body) as WebhookEvent,
        signed: verifyWebhookSignature(
          SECRET,
          req.headers[WEBHOOK_SIGNATURE_HEADER] as string,
          body,
        ),
      })
      answer(req, res, received.length)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    async close() {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}

/** A pino logger whose lines land in `lines`. */
export function capturingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = []
  const logger: Logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) })
  return { logger, lines }
}

export function subscriber(n: number, extra: Partial<WebhookSubscriber> = {}): WebhookSubscriber {
  return {
    id: `urn:uuid:${randomUUID()}`,
    selectors: [`https://example.com/users/${n}`],
    claims: null,
    protocol: '0.x',
    ...extra,
  }
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Waits, in bounded steps, until `done()` holds. */
export async function until(done: () => boolean, what: string, steps = 500): Promise<void> {
  for (let i = 0; i < steps && !done(); i++) await sleep(20)
  assert.ok(done(), `timed out waiting until ${what}`)
}

/** A metric's value in the registry's text, 0 when absent. */
export async function metric(
  registry: ReturnType<typeof createMetrics>['registry'],
  name: string,
  labels: string,
): Promise<number> {
  const text = await registry.metrics()
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels))
  return line === undefined ? 0 : Number(line.split(' ').pop())
}

/** A cluster of one node that never loses one, counting its `onNodeLost` listeners. */
export function countingCluster(): { cluster: ClusterView; listening(): number } {
  let listening = 0
  const cluster: ClusterView = {
    nodeId: 'node-a',
    nodes: async () => [],
    onNodeLost: () => {
      listening++
      return () => {
        listening--
      }
    },
  }
  return { cluster, listening: () => listening }
}

export function options(
  urls: string[],
  extra: Partial<PresenceWebhookOptions> = {},
): PresenceWebhookOptions {
  return { urls, secret: SECRET, ...extra }
}

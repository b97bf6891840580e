import type { OutgoingHttpHeaders } from 'node:http'
import type { EventStream } from '../core/event-stream.ts'
import type { EventStore } from '../hub/event-store.ts'
import type { Hub } from '../hub/hub.ts'
import type { JwtVerifier } from '../hub/jwt-verifier.ts'
import type { NodeRequest, NodeResponse } from './event-stream-response.ts'
import type { Logger } from './logger.ts'
import { createNodeProtocolHandler } from './mercure-handler.ts'
import { createMercureService, type MercureServiceOptions } from './mercure-service.ts'
import type { Metrics } from './metrics.ts'

/** Options for the Mercure hub mounted on the server. */
export interface MercureAppOptions extends MercureServiceOptions {
  /** Prometheus metrics to report to. Defaults to none. */
  metrics?: Metrics | null
}

/** The hub, mounted: its handler for `/.well-known/mercure`, and its readiness. */
export interface MercureApp {
  readonly hub: Hub
  readonly store: EventStore
  /** Verifies subscribers' tokens (apps reuse it for the tokens they issue). */
  readonly subscriberVerifier: JwtVerifier
  handle(req: NodeRequest, res: NodeResponse, url: URL): Promise<boolean>
  close(): void
}

/**
 * Builds the hub and its Node HTTP handler from options (verifiers and matcher included): the
 * framework-neutral service (`mercure-service.ts`) on Node's requests and responses.
 */
export function createMercureApp(
  options: MercureAppOptions,
  server: {
    logger: Logger
    openStream: (req: NodeRequest, res: NodeResponse, headers: OutgoingHttpHeaders) => EventStream
    closing: () => boolean
  },
): MercureApp {
  const service = createMercureService(options, server)
  const handle = createNodeProtocolHandler({
    protocol: service.protocol,
    openStream: server.openStream,
    logger: server.logger,
  })
  return {
    hub: service.hub,
    store: service.store,
    subscriberVerifier: service.subscriberVerifier,
    handle,
    close: () => service.close(),
  }
}

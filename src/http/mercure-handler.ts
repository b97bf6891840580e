import type { OutgoingHttpHeaders } from 'node:http'
import type { EventStream } from '../core/event-stream.ts'
import type { NodeRequest, NodeResponse } from './event-stream-response.ts'
import type { HubAnswer } from './hub-answer.ts'
import type { HubLogger } from './hub-logger.ts'
import type { HubExchange, HubOutcome, MercureProtocol } from './mercure-protocol.ts'
import { readBody } from './read-body.ts'
import { closingHeaders, discardRefusedBody } from './refused-body.ts'

/** Options for {@link createNodeProtocolHandler}. */
export interface NodeProtocolHandlerOptions {
  /** The protocol it serves (see `mercure-service.ts`). */
  protocol: MercureProtocol
  /** Opens an SSE response with extra headers (the server tracks and heartbeats it). */
  openStream: (req: NodeRequest, res: NodeResponse, headers: OutgoingHttpHeaders) => EventStream
  /** Where a stream that fails while it opens is logged. */
  logger: HubLogger
}

/**
 * The Mercure protocol (`mercure-protocol.ts`) on Node's HTTP/1.1 and HTTP/2: bodies read with
 * their bounds and `Expect: 100-continue` deferred, streams opened on the response, and the bodies
 * of refused requests dropped without being read (see `discardRefusedBody`).
 * Handles `/.well-known/mercure` and below; returns `false` for any other path. `opened`, when
 * given, is called right after a subscription's stream opened (its catch-up may go on).
 */
export function createNodeProtocolHandler(
  options: NodeProtocolHandlerOptions,
): (req: NodeRequest, res: NodeResponse, url: URL, opened?: () => void) => Promise<boolean> {
  const { protocol, logger } = options
  return async (req, res, url, opened) => {
    const exchange: HubExchange = {
      request: {
        method: req.method ?? 'GET',
        url,
        headers: req.headers,
        clientAddress: req.socket?.remoteAddress,
        origin: requestOrigin(req),
      },
      readBody: (limit, timeoutMs) => readBody(req, limit, { timeoutMs }),
      openStream: (headers) => {
        const stream = options.openStream(req, res, headers)
        opened?.()
        return stream
      },
    }
    let outcome: HubOutcome
    try {
      outcome = await protocol.handle(exchange)
    } catch (error) {
      if (!res.headersSent) throw error
      // The stream failed while it opened: the client reconnects with its last id.
      logger.error({ err: error }, 'subscription failed')
      res.destroy?.()
      return true
    }
    if (outcome === null) return false
    if (outcome !== 'streaming') sendAnswer(req, res, outcome)
    return true
  }
}

/**
 * A response's `writeHead` taking the headers as one flat list of names and values: Node's
 * HTTP/1.1 response and its HTTP/2 compatibility response both do (Node 20 to 26), though
 * `@types/node` declares it for HTTP/1.1 only.
 */
interface FlatHeadWriter {
  writeHead(status: number, headers: string[]): unknown
}

const NOT_CLOSING: OutgoingHttpHeaders = Object.freeze({})

/** Writes `answer`, then disposes of what is left of the request's body, as the answer says. */
function sendAnswer(req: NodeRequest, res: NodeResponse, answer: HubAnswer): void {
  const unread = answer.unreadBody !== undefined && !req.complete
  const close = unread && answer.unreadBody === 'close'
  // A flat list of names and values: Node takes it as it comes, where an object is walked with
  // for…in and an own-property check per header, after a copy to add the length (issue #15).
  const fields: string[] = []
  const { headers } = answer
  const closing = close ? closingHeaders(req) : NOT_CLOSING
  // A closing field replaces the answer's own of that name, as a spread of both objects did.
  for (const name of Object.keys(headers)) {
    if (!(name in closing)) fields.push(name, headers[name] as string)
  }
  for (const name of Object.keys(closing)) fields.push(name, String(closing[name]))
  if (answer.body === null) {
    ;(res as FlatHeadWriter).writeHead(answer.status, fields)
    res.end()
  } else {
    // The body as a string, not a Buffer: Node then writes the head and the body as one string
    // in one write, where a Buffer costs a copy and a two-buffer writev (issue #15: the answer was
    // most of a publish's syscall time).
    fields.push('content-length', String(Buffer.byteLength(answer.body)))
    ;(res as FlatHeadWriter).writeHead(answer.status, fields)
    res.end(answer.body)
  }
  if (unread) discardRefusedBody(req, res, close ? { close: true } : {})
}

/**
 * The origin the client addressed: its connection's scheme (`:scheme` on HTTP/2, TLS or not on
 * HTTP/1.1) and its `:authority` or `Host`. `undefined` without a host (an HTTP/1.0 request).
 */
function requestOrigin(req: NodeRequest): string | undefined {
  const host = req.headers[':authority'] ?? req.headers.host
  if (typeof host !== 'string' || host === '') return undefined
  const scheme = req.headers[':scheme']
  const secure =
    typeof scheme === 'string'
      ? scheme === 'https'
      : (req.socket as { encrypted?: boolean } | null | undefined)?.encrypted === true
  // A client sends the same Host on every request: the last origin read is kept, not parsed again.
  if (host === lastHost && secure === lastSecure) return lastOrigin
  let origin: string | undefined
  try {
    origin = new URL(`${secure ? 'https' : 'http'}://${host}`).origin
  } catch {
    origin = undefined
  }
  lastHost = host
  lastSecure = secure
  lastOrigin = origin
  return origin
}

let lastHost: string | undefined
let lastSecure = false
let lastOrigin: string | undefined

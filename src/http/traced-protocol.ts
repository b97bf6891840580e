import type { TraceSpan } from '../hub/trace-span.ts'
import { HUB_PATH } from './hub-identity.ts'
import type { HubExchange, HubOutcome, HubRequest, MercureProtocol } from './mercure-protocol.ts'

/** Starts the root spans of requests: what `otel-tracer.ts` makes of an OpenTelemetry tracer. */
export interface RequestTracer {
  /** Starts the span `name` of `request`, under the trace its headers carry (`traceparent`), if any. */
  start(name: 'publish' | 'subscribe', request: HubRequest): TraceSpan
}

/** Longest span status message, in characters: the first line of a refusal is enough. */
const MAX_REASON = 200

/**
 * `protocol`, each publish (`POST`) and subscription (`GET`, `HEAD`, `QUERY`) on the hub's path
 * traced: a `publish` or `subscribe` span with `http.request.method`, `url.path` and
 * `http.response.status_code`, failed on a 4xx or 5xx with the answer's first line as its reason
 * (those lines never quote a token). The request reaches the protocol with the span as its
 * `trace`, under which the token check, the commit, the dispatch and the replay record theirs. A
 * subscription's span ends when its stream is handed over, after its replay. Other requests (the
 * subscriptions API, the metadata, preflights) are not traced.
 */
export function tracedProtocol(protocol: MercureProtocol, tracer: RequestTracer): MercureProtocol {
  return {
    async handle(exchange) {
      const { request } = exchange
      const name = spanName(request)
      if (name === null) return protocol.handle(exchange)
      const span = tracer.start(name, request)
      span.setAttribute('http.request.method', request.method)
      span.setAttribute('url.path', request.url.pathname)
      const traced: HubExchange = {
        request: { ...request, trace: span },
        readBody: (limit, timeoutMs) => exchange.readBody(limit, timeoutMs),
        openStream: (headers) => exchange.openStream(headers),
      }
      try {
        const outcome = await protocol.handle(traced)
        recordOutcome(span, outcome)
        return outcome
      } catch (error) {
        // An error the protocol does not know: its name only, as its message may quote anything.
        const type = error instanceof Error ? error.name : 'Error'
        span.setAttribute('error.type', type)
        span.fail(type)
        throw error
      } finally {
        span.end()
      }
    },
  }
}

/** The span a request gets, or `null` for one not traced. */
function spanName(request: HubRequest): 'publish' | 'subscribe' | null {
  if (request.url.pathname !== HUB_PATH) return null
  const { method } = request
  if (method === 'POST') return 'publish'
  if (method === 'GET' || method === 'HEAD' || method === 'QUERY') return 'subscribe'
  return null
}

function recordOutcome(span: TraceSpan, outcome: HubOutcome): void {
  if (outcome === null) return
  const status = outcome === 'streaming' ? 200 : outcome.status
  span.setAttribute('http.response.status_code', status)
  if (status < 400 || outcome === 'streaming') return
  // [spec] OpenTelemetry HTTP conventions: `error.type` is the status code when nothing better.
  span.setAttribute('error.type', String(status))
  const line = (outcome.body ?? '').split('\n', 1)[0] ?? ''
  span.fail(`${status} ${line.slice(0, MAX_REASON)}`.trim())
}

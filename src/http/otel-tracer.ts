import { createRequire } from 'node:module'
import type * as OtelApi from '@opentelemetry/api'
import { loadOptionalPackage } from '../hub/optional-package.ts'
import type { TraceSpan } from '../hub/trace-span.ts'
import type { RequestHeaders } from './request-headers.ts'
import type { RequestTracer } from './traced-protocol.ts'

// The only file that loads @opentelemetry/api: a peer dependency, optional, loaded when the
// application passes a tracer (which it made with that package), never when an entry point is
// imported. Spans need contexts to name their parents, and only the API makes those; the tracer
// and its spans are typed structurally, so ssehub's declarations need no @opentelemetry/api either.
// Under tsx, `require` may get a copy of the API apart from the application's `import`: that is
// harmless, as the API keeps its registrations and context keys in globals shared by every copy.

const require = createRequire(import.meta.url)

/** The span options ssehub passes: a subset of OpenTelemetry's `SpanOptions`. */
export interface OpenTelemetrySpanOptions {
  kind?: number
}

/** The part of an OpenTelemetry `Span` ssehub calls; any `Span` has it. */
export interface OpenTelemetrySpan {
  setAttribute(key: string, value: string | number | boolean): unknown
  setStatus(status: { code: number; message?: string }): unknown
  end(): void
}

/**
 * An OpenTelemetry `Tracer`, such as `trace.getTracer('my-app')` returns (typed by the part
 * ssehub calls, so passing one needs no cast, and ssehub's types need no @opentelemetry/api).
 */
export interface OpenTelemetryTracer {
  startSpan(name: string, options?: OpenTelemetrySpanOptions, context?: unknown): OpenTelemetrySpan
}

/** Reads a request's headers for a propagator (`traceparent`, `tracestate`, `baggage`…). */
const HEADER_GETTER: OtelApi.TextMapGetter<RequestHeaders> = {
  keys: (headers) => Object.keys(headers),
  get: (headers, key) => headers[key],
}

/**
 * The {@link RequestTracer} of an OpenTelemetry tracer: `publish` and `subscribe` as server spans
 * (`SpanKind.SERVER`), parented by the trace context the request's headers carry when the
 * application registered a propagator (OpenTelemetry's SDKs register W3C `traceparent`); their
 * children as internal spans.
 *
 * @param usedBy What needs the API, for the message when it is missing.
 * @throws {MissingPackageError} when @opentelemetry/api is not installed.
 */
export function createOtelRequestTracer(
  tracer: OpenTelemetryTracer,
  usedBy: string,
): RequestTracer {
  const api = loadOptionalPackage(
    '@opentelemetry/api',
    usedBy,
    () => require('@opentelemetry/api') as typeof OtelApi,
  )
  const wrap = (span: OpenTelemetrySpan): TraceSpan => ({
    setAttribute: (key, value) => {
      span.setAttribute(key, value)
    },
    fail: (reason) => {
      span.setStatus({ code: api.SpanStatusCode.ERROR, message: reason })
    },
    end: () => span.end(),
    child: (name) => {
      // The span came from the application's tracer: it is a whole OpenTelemetry `Span`.
      const parent = api.trace.setSpan(api.ROOT_CONTEXT, span as OtelApi.Span)
      return wrap(tracer.startSpan(name, { kind: api.SpanKind.INTERNAL }, parent))
    },
  })
  return {
    start(name, request) {
      const parent = api.propagation.extract(api.ROOT_CONTEXT, request.headers, HEADER_GETTER)
      return wrap(tracer.startSpan(name, { kind: api.SpanKind.SERVER }, parent))
    },
  }
}

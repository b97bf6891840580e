// The hub records into spans of this shape and knows no tracing package: `ssehub/hub` stays free
// of dependencies, and the adapter that speaks OpenTelemetry (`http/otel-tracer.ts`) is loaded only
// by an application that passes a tracer. No span given, nothing is traced and nothing allocated.

/** One span of a trace, as ssehub records into it (see `docs/tracing.md`). */
export interface TraceSpan {
  /** Sets an attribute; OpenTelemetry's naming (`ssehub.topics`, `http.request.method`). */
  setAttribute(key: string, value: string | number | boolean): void
  /** Marks the span failed, with a reason for people: a status line, an error code, never a token. */
  fail(reason: string): void
  /** Ends the span (once). */
  end(): void
  /** Starts a span under this one, such as `auth` or `store.commit`. */
  child(name: string): TraceSpan
}

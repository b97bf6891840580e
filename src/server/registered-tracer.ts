import { createRequire } from 'node:module'
import type * as OtelApi from '@opentelemetry/api'
import { MissingPackageError, type OpenTelemetryTracer } from '../node/index.ts'

// The `ssehub` command and createSsehubServer trace when the application registered an
// OpenTelemetry tracer provider before the server was made (typically a file preloaded with
// `node --import ./otel-setup.js`, which calls `trace.setGlobalTracerProvider` or starts the
// NodeSDK). Looked up once: a provider registered later is not seen until the next start. That is
// the price of no cost when tracing is off: a ProxyTracer would notice a late provider, but every
// request would then start and end a no-op span.

const require = createRequire(import.meta.url)

/** The tracer's name and version: what exporters show as the instrumentation scope. */
const SCOPE = 'ssehub'

/**
 * `given` when it is set (a tracer, or `null` for none); else the tracer of the OpenTelemetry
 * provider the application registered globally, or `null` when it registered none or
 * `@opentelemetry/api` is not installed.
 *
 * "Registered" is read from the API's global `ProxyTracerProvider`: its `getDelegateTracer` gives a
 * tracer only once a provider was set behind it (`getTracer` would give a no-op `ProxyTracer`
 * instead, which records nothing but still costs a span object per request).
 */
export function registeredTracer(
  given: OpenTelemetryTracer | null | undefined,
): OpenTelemetryTracer | null {
  if (given !== undefined) return given
  let api: typeof OtelApi
  try {
    api = require('@opentelemetry/api') as typeof OtelApi
  } catch (error) {
    if (MissingPackageError.fromRequireError(error, '@opentelemetry/api', SCOPE) !== null) {
      return null
    }
    throw error
  }
  const provider = api.trace.getTracerProvider() as Partial<OtelApi.ProxyTracerProvider>
  if (typeof provider.getDelegateTracer !== 'function') return null
  return provider.getDelegateTracer(SCOPE, version()) ?? null
}

/** ssehub's version, from its package.json (two folders up from src/server/ and dist/server/). */
function version(): string {
  return (require('../../package.json') as { version: string }).version
}

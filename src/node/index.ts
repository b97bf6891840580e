/**
 * ssehub/node: the hub and SSE responses for Node's `http` and `http2` servers, and the
 * frameworks built on them (Express 5, Fastify 5, Koa). `createMercureHandler` mounts the Mercure
 * hub at `/.well-known/mercure` in your server; `openEventStream` serves SSE from your own route,
 * without the hub; `mintToken` (0.x) and `mintAccessToken` (1.0) sign the tokens publishers and
 * subscribers present, and `keyWarnings` says when a key is unsafe. For routes of your own
 * beside the hub, the Node helpers the hub itself answers with: bounded bodies (`readBody`,
 * `discardRefusedBody`, `deferContinue`), `readCookie`, `sendText` and `parseRequestTarget`. The
 * `ssehub` server is composed of this entry and the others, nothing more.
 *
 * @module
 */
export { BodyTimeoutError, BodyTooLargeError } from '../http/body-errors.ts'
export {
  DEFAULT_ACCESS_TOKEN_COOKIE_NAME,
  DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_COOKIE_NAME,
  DEFAULT_MAX_BODY_BYTES,
} from '../http/defaults.ts'
export {
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
} from '../http/event-stream-response.ts'
export { deferContinue } from '../http/expect-continue.ts'
export type { HubLogger } from '../http/hub-logger.ts'
export { readLastEventId } from '../http/last-event-id.ts'
export { HUB_PATH } from '../http/mercure-protocol.ts'
export type {
  MercureMetrics,
  MercureProtocolVersion,
  OpenTelemetryTracer,
} from '../http/mercure-service.ts'
export { type ReadBodyOptions, readBody } from '../http/read-body.ts'
export { readCookie } from '../http/read-cookie.ts'
export { discardRefusedBody, type RefusedBodyOptions } from '../http/refused-body.ts'
export { parseRequestTarget } from '../http/request-target.ts'
export { sendText } from '../http/send-text.ts'
export type { TrustedIssuer } from '../hub/access-token-verifier.ts'
export { DEFAULT_MAX_ID_BYTES } from '../hub/defaults.ts'
export type { MercureClaims } from '../hub/jwt-verifier.ts'
export { type KeySetting, keyWarnings } from '../hub/key-warnings.ts'
export {
  type MintAccessTokenOptions,
  type MintTokenOptions,
  mintAccessToken,
  mintToken,
  type TokenMatcher,
} from '../hub/mint-token.ts'
export { MissingPackageError } from '../hub/optional-package.ts'
export { MAX_ID_BYTES } from '../hub/publish-form.ts'
export type { EmbeddedHubOptions } from '../web/embedded-hub.ts'
export {
  createMercureHandler,
  type MercureHandler,
  type MercureHandlerOptions,
} from './hub-handler.ts'

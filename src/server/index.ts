/**
 * ssehub's Node server: SSE responses on `node:http` / `node:http2`, and the hub server that the
 * `ssehub` command runs (composed of the package's other entry points only).
 *
 * @module
 */
export {
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  openEventStream,
  readLastEventId,
} from '../node/index.ts'
export {
  createPresenceWebhooks,
  type PresenceWebhookOptions,
  type PresenceWebhooks,
} from './presence-webhooks.ts'
export {
  createSsehubServer,
  type ServerHubOptions,
  type SsehubServer,
  type SsehubServerOptions,
} from './server.ts'
export type {
  UnsubscribeReason,
  WebhookEvent,
  WebhookEventKind,
  WebhookSelector,
} from './webhook-event.ts'
export {
  signWebhook,
  type VerifyWebhookOptions,
  verifyWebhookSignature,
  WEBHOOK_ID_HEADER,
  WEBHOOK_SIGNATURE_HEADER,
} from './webhook-signature.ts'

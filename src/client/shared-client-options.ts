import type { SseClientOptions } from './client-options.ts'

/**
 * Options for {@link SharedSseClient} and {@link createSharedClient}: those of `SseClient`, plus
 * the name of the shared subscription. Every option is optional.
 *
 * Only the leader tab's options reach the hub (its `headers`, `withCredentials`, `fetch`…), so
 * every tab sharing a name should pass the same ones.
 */
export interface SharedClientOptions extends SseClientOptions {
  /**
   * The key of the shared subscription: tabs of the origin that pass the same name share one
   * connection, so give different subscriptions different names. Defaults to the subscription
   * URL (the URL with its `topics` or `match`/`matchUrlPattern`), so tabs asking for the same
   * selectors in the same order share.
   */
  name?: string
}

import { mintToken } from '../../src/hub/mint-token.ts'
import {
  createSsehubServer,
  type ServerHubOptions,
  type SsehubServer,
  type SsehubServerOptions,
} from '../../src/server/server.ts'
import { createMemoryStore } from '../../src/storage/memory.ts'

/** The HMAC secret test hubs verify with (≥ 32 bytes, as HS256 requires). */
export const TEST_SECRET = 'ssehub-test-secret-0123456789-abcdefghij'

/** A hub on a loopback port, with helpers to mint tokens and publish. */
export interface TestHub {
  readonly server: SsehubServer
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  /** `${base}/.well-known/mercure` */
  readonly hubUrl: string
  /** A token signed with {@link TEST_SECRET} (or `key`). */
  token(
    claims: { publish?: string[]; subscribe?: string[]; payload?: unknown },
    key?: string,
  ): Promise<string>
  /** Posts a publish form; `token` defaults to one allowed to publish everywhere. */
  publish(
    fields: Array<[string, string]> | Record<string, string>,
    token?: string | null,
  ): Promise<Response>
  /** Publishes and fails the test unless the hub answers 200; resolves with the id. */
  publishOk(fields: Array<[string, string]> | Record<string, string>): Promise<string>
  close(): Promise<void>
}

/** Starts a hub with a memory store (unless one is given) and anonymous subscribers allowed. */
export async function startTestHub(
  mercure: ServerHubOptions = {},
  server: Partial<SsehubServerOptions> = {},
  port = 0,
): Promise<TestHub> {
  const store = mercure.store ?? createMemoryStore()
  const hub = createSsehubServer({
    heartbeatMs: null,
    ...server,
    mercure: {
      store,
      publisherKey: TEST_SECRET,
      subscriberKey: TEST_SECRET,
      anonymous: true,
      ...mercure,
    },
  })
  const { url: base } = await hub.listen(port, '127.0.0.1')
  const hubUrl = `${base}/.well-known/mercure`
  const token: TestHub['token'] = (claims, key = TEST_SECRET) => mintToken({ key, ...claims })
  const publisherToken = await token({ publish: ['*'] })
  const publish: TestHub['publish'] = (fields, auth = publisherToken) => {
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
    if (auth !== null) headers['authorization'] = `Bearer ${auth}`
    return fetch(hubUrl, { method: 'POST', headers, body: new URLSearchParams(fields).toString() })
  }
  return {
    server: hub,
    base,
    hubUrl,
    token,
    publish,
    async publishOk(fields) {
      const res = await publish(fields)
      const text = await res.text()
      if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${text}`)
      return text
    },
    async close() {
      await hub.close()
      if (mercure.store === undefined) await store.close()
    },
  }
}

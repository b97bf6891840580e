// The Mercure hub as a Next.js route handler: this one catch-all route answers
// /.well-known/mercure and everything under it (the subscriptions API), through ssehub/web's
// fetch handler. Next.js calls the exported functions with web-standard `Request`s and streams
// the `Response` they return, so the hub's event streams go out as they are written.
import { createMercureFetchHandler, type MercureFetchHandler } from 'ssehub/web'

// Every request reaches the handler: nothing here may be rendered or cached at build time. The
// hub keeps its subscribers in this process, so it runs on Node, not on the edge runtime.
export const dynamic = 'force-dynamic'
export const runtime = 'nodejs'

// One hub per server process, made on the first request rather than at import: `next build`
// imports this module too, without the key. (`globalThis` keeps it across the dev server's
// reloads, so reloading does not start a second hub beside the first.)
const holder = globalThis as { ssehubMercure?: MercureFetchHandler }
function mercure(): MercureFetchHandler {
  if (holder.ssehubMercure !== undefined) return holder.ssehubMercure
  const hub = createMercureFetchHandler({
    key: process.env.SSEHUB_JWT_KEY ?? '', // verifies publishers' and subscribers' tokens
    anonymous: true, // subscribers without a token get the public updates
  })
  // On SIGTERM, `next start` waits for open connections to end before it exits, and an event
  // stream does not end by itself: end them (clients reconnect elsewhere with their last id).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void hub.close())
  holder.ssehubMercure = hub
  return hub
}

// Next.js gives route handlers no client address: behind a proxy that you trust, pass its
// `x-forwarded-for` as `clientAddress` so the hub's per-address caps count clients, not the proxy.
const handle = (request: Request): Promise<Response> => mercure()(request)

export { handle as DELETE, handle as GET, handle as OPTIONS, handle as POST }

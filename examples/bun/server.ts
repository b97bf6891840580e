// A Bun server with the Mercure hub at /.well-known/mercure beside its own route, through
// ssehub/web's fetch handler. Bun comes from its npm package (a development dependency here).
//
//   SSEHUB_JWT_KEY="$(openssl rand -base64 48)" npx bun --conditions=source examples/bun/server.ts
//
// (`--conditions=source` runs ssehub from its sources, with no build.) Publish with a token
// minted with the same key: see examples/README.md. PORT and HOST change where it listens.
import { createMercureFetchHandler } from 'ssehub/web'

const { SSEHUB_JWT_KEY = '', PORT = '3000', HOST = '127.0.0.1' } = process.env

const mercure = createMercureFetchHandler({
  key: SSEHUB_JWT_KEY, // verifies publishers' and subscribers' tokens
  anonymous: true, // subscribers without a token get the public updates
})

const server = Bun.serve({
  port: Number(PORT),
  hostname: HOST,
  // Bun closes a connection idle for 10 s by default, and an SSE stream is idle between its
  // heartbeats (15 s): without this, every quiet stream would be cut and reconnect.
  idleTimeout: 0,
  fetch(request, server) {
    const { pathname } = new URL(request.url)
    if (pathname === '/.well-known/mercure' || pathname.startsWith('/.well-known/mercure/')) {
      return mercure(request, { clientAddress: server.requestIP(request)?.address })
    }
    if (pathname === '/hello') return Response.json({ hello: 'world' })
    return new Response('Not found\n', { status: 404 })
  },
})
console.log(`listening on http://${server.hostname}:${server.port}`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await mercure.close() // ends every stream cleanly: clients reconnect with their last id
    await server.stop()
  })
}

// A Deno server with the Mercure hub at /.well-known/mercure beside its own route, through
// ssehub/web's fetch handler. Deno comes from its npm package (a development dependency here).
//
//   SSEHUB_JWT_KEY="$(openssl rand -base64 48)" npx deno run --no-lock --conditions=source \
//     --allow-net --allow-env --allow-read examples/deno/server.ts
//
// (`--conditions=source` runs ssehub from its sources, with no build.) Publish with a token
// minted with the same key: see examples/README.md. PORT and HOST change where it listens.
import { createMercureFetchHandler } from 'ssehub/web'

const env = (name: string, fallback: string): string => Deno.env.get(name) ?? fallback

const mercure = createMercureFetchHandler({
  key: env('SSEHUB_JWT_KEY', ''), // verifies publishers' and subscribers' tokens
  anonymous: true, // subscribers without a token get the public updates
})

const server = Deno.serve(
  {
    port: Number(env('PORT', '3000')),
    hostname: env('HOST', '127.0.0.1'),
    onListen: ({ hostname, port }) => console.log(`listening on http://${hostname}:${port}`),
  },
  (request, info) => {
    const { pathname } = new URL(request.url)
    if (pathname === '/.well-known/mercure' || pathname.startsWith('/.well-known/mercure/')) {
      return mercure(request, { clientAddress: info.remoteAddr.hostname })
    }
    if (pathname === '/hello') return Response.json({ hello: 'world' })
    return new Response('Not found\n', { status: 404 })
  },
)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, async () => {
    await mercure.close() // ends every stream cleanly: clients reconnect with their last id
    await server.shutdown()
    Deno.exit(0)
  })
}

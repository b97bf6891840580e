// A Hono app on Node (@hono/node-server) with the Mercure hub mounted at /.well-known/mercure
// beside its own routes, through ssehub/web's fetch handler.
//
//   SSEHUB_JWT_KEY="$(openssl rand -base64 48)" node --conditions=source --import tsx examples/hono-node/server.ts
//
// (`--conditions=source` runs ssehub from its sources, with no build.) Publish with a token
// minted with the same key: see examples/README.md. PORT and HOST change where it listens.
import { serve } from '@hono/node-server'
import { getConnInfo } from '@hono/node-server/conninfo'
import { Hono } from 'hono'
import { createMercureFetchHandler } from 'ssehub/web'

const { SSEHUB_JWT_KEY = '', PORT = '3000', HOST = '127.0.0.1' } = process.env

const mercure = createMercureFetchHandler({
  key: SSEHUB_JWT_KEY, // verifies publishers' and subscribers' tokens
  anonymous: true, // subscribers without a token get the public updates
})

const app = new Hono()
// The hub's path and everything under it (the subscriptions API); the raw request goes to the
// hub, body unread. The client's address counts against the per-address caps.
app.all('/.well-known/mercure/*', (c) =>
  mercure(c.req.raw, { clientAddress: getConnInfo(c).remote.address }),
)
app.get('/hello', (c) => c.json({ hello: 'world' }))

const server = serve({ fetch: app.fetch, port: Number(PORT), hostname: HOST }, (info) => {
  console.log(`listening on http://${info.address}:${info.port}`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await mercure.close() // ends every stream cleanly: clients reconnect with their last id
    server.close()
  })
}

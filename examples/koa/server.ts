// A Koa app with the Mercure hub mounted at /.well-known/mercure beside its own routes.
//
//   SSEHUB_JWT_KEY="$(openssl rand -base64 48)" node --conditions=source --import tsx examples/koa/server.ts
//
// (`--conditions=source` runs ssehub from its sources, with no build.) Publish with a token
// minted with the same key: see examples/README.md. PORT and HOST change where it listens.
import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import { createMercureHandler } from 'ssehub/node'

const { SSEHUB_JWT_KEY = '', PORT = '3000', HOST = '127.0.0.1' } = process.env

const mercure = createMercureHandler({
  key: SSEHUB_JWT_KEY, // verifies publishers' and subscribers' tokens
  anonymous: true, // subscribers without a token get the public updates
})

const app = new Koa()
// First, before any body parser: a publish's body is the hub's to read. When the hub answered,
// `ctx.respond = false` keeps Koa from answering too.
app.use(async (ctx, next) => {
  if (await mercure(ctx.req, ctx.res)) ctx.respond = false
  else await next()
})
app.use((ctx) => {
  if (ctx.method === 'GET' && ctx.path === '/hello') ctx.body = { hello: 'world' }
})

const server = app.listen(Number(PORT), HOST, () => {
  const { address, port } = server.address() as AddressInfo
  console.log(`listening on http://${address}:${port}`)
})

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await mercure.close() // ends every stream cleanly: clients reconnect with their last id
    server.close()
  })
}

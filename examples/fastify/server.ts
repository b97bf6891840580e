// A Fastify 5 app with the Mercure hub mounted at /.well-known/mercure beside its own routes.
//
//   SSEHUB_JWT_KEY="$(openssl rand -base64 48)" node --conditions=source --import tsx examples/fastify/server.ts
//
// (`--conditions=source` runs ssehub from its sources, with no build.) Publish with a token
// minted with the same key: see examples/README.md. PORT and HOST change where it listens.
import Fastify from 'fastify'
import { createMercureHandler } from 'ssehub/node'

const { SSEHUB_JWT_KEY = '', PORT = '3000', HOST = '127.0.0.1' } = process.env

const mercure = createMercureHandler({
  key: SSEHUB_JWT_KEY, // verifies publishers' and subscribers' tokens
  anonymous: true, // subscribers without a token get the public updates
})

const app = Fastify()
// onRequest runs before Fastify reads a body: the hub answers on the raw request and response,
// then hijack() tells Fastify that the reply is taken care of.
app.addHook('onRequest', async (request, reply) => {
  if (await mercure(request.raw, reply.raw)) reply.hijack()
})
// preClose, not onClose: Fastify waits for open requests, and a stream stays open until it ends.
app.addHook('preClose', () => mercure.close())
app.get('/hello', async () => ({ hello: 'world' }))

const url = await app.listen({ port: Number(PORT), host: HOST })
console.log(`listening on ${url}`)

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => app.close())
}

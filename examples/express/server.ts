// An Express 5 app with the Mercure hub mounted at /.well-known/mercure beside its own routes.
//
//   SSEHUB_JWT_KEY="$(openssl rand -base64 48)" node --conditions=source --import tsx examples/express/server.ts
//
// (`--conditions=source` runs ssehub from its sources, with no build.) Publish with a token
// minted with the same key: see examples/README.md. PORT and HOST change where it listens.
import type { AddressInfo } from 'node:net'
import express from 'express'
import { createMercureHandler } from 'ssehub/node'

const { SSEHUB_JWT_KEY = '', PORT = '3000', HOST = '127.0.0.1' } = process.env

const mercure = createMercureHandler({
  key: SSEHUB_JWT_KEY, // verifies publishers' and subscribers' tokens
  anonymous: true, // subscribers without a token get the public updates
})

const app = express()
// First, before any body parser: a publish's body is the hub's to read.
app.use(async (req, res, next) => {
  if (!(await mercure(req, res))) next()
})
app.use(express.json())
app.get('/hello', (_req, res) => {
  res.json({ hello: 'world' })
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

#!/usr/bin/env node
import { ConfigError, loadConfig, USAGE } from './config.ts'
import { createLogger } from './logger.ts'
import { createSsehubServer } from './server.ts'

async function main(): Promise<void> {
  let loaded: ReturnType<typeof loadConfig>
  try {
    loaded = loadConfig(process.argv.slice(2), process.env, process.stdout.isTTY === true)
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`ssehub: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  if (loaded.help) {
    process.stdout.write(USAGE)
    return
  }
  const { config } = loaded
  const logger = createLogger({ level: config.logLevel, pretty: config.logFormat === 'pretty' })
  const hub = createSsehubServer({ logger, heartbeatMs: config.heartbeatMs, tls: config.tls })
  let address: Awaited<ReturnType<typeof hub.listen>>
  try {
    address = await hub.listen(config.port, config.host)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const hint =
      code === 'EADDRINUSE'
        ? `port ${config.port} is in use: stop what uses it or choose another with PORT=…`
        : code === 'EACCES'
          ? `no permission to bind port ${config.port}: choose a port above 1023`
          : (error as Error).message
    logger.fatal({ code }, `cannot listen: ${hint}`)
    process.exitCode = 1
    return
  }
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : address.host
  const base = `${config.tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`
  logger.info({ url: base, http2: config.tls !== null }, `ssehub listening on ${base}`)
  logger.info(`clock demo: ${base}/demo/clock/`)

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    hub.close().then(
      () => {
        logger.info('stopped')
        logger.flush()
        process.exit(0)
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed')
        process.exit(1)
      },
    )
  }
  process.on('SIGINT', stop)
  process.on('SIGTERM', stop)
}

await main()

#!/usr/bin/env node
import { randomBytes } from 'node:crypto'
import { keyWarnings, MissingPackageError, mintAccessToken, mintToken } from '../node/index.ts'
import { ConfigError, loadConfig, type ServerConfig, USAGE } from './config.ts'
import { DEFAULT_TRUSTED_ISSUER } from './defaults.ts'
import { createLogger, type Logger } from './logger.ts'
import { createMetrics } from './metrics.ts'
import { openStore } from './open-store.ts'
import { protocolSummary, protocolWarnings } from './protocol-config.ts'
import { createSsehubServer } from './server.ts'
import { runTokenCommand } from './token-command.ts'

async function main(): Promise<void> {
  const argv = process.argv.slice(2)
  try {
    if (argv[0] === 'token') {
      process.stdout.write(`${await runTokenCommand(argv.slice(1), process.env)}\n`)
      return
    }
    const loaded = loadConfig(argv, process.env, process.stdout.isTTY === true)
    if (loaded.help) {
      process.stdout.write(USAGE)
      return
    }
    await serve(loaded.config)
  } catch (error) {
    // A missing optional package (installed with `--omit=optional`) is a set-up mistake too.
    if (error instanceof ConfigError || error instanceof MissingPackageError) {
      process.stderr.write(`ssehub: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
}

async function serve(config: ServerConfig): Promise<void> {
  const logger = createLogger({ level: config.logLevel, pretty: config.logFormat === 'pretty' })
  if (!config.devMode) {
    const settings = [
      {
        name: 'the publisher key',
        key: config.publisherKey,
        algorithms: config.publisherAlgorithms,
      },
      {
        name: 'the subscriber key',
        key: config.subscriberKey,
        algorithms: config.subscriberAlgorithms,
      },
    ].filter((setting): setting is typeof setting & { key: string } => setting.key !== null)
    for (const warning of keyWarnings(settings)) logger.warn(`insecure JWT key: ${warning}`)
  }
  for (const warning of protocolWarnings(config)) logger.warn(warning)
  // Development mode: no key configured. One random secret for this run signs both kinds of token.
  const devSecret = config.devMode ? randomBytes(32).toString('base64url') : null
  // The dashboard is on in development mode, with a token of its own for this run: printed in the
  // banner, never logged. The hub binds loopback there, so the form is reachable from here only.
  const devAdminToken =
    config.devMode && config.adminToken === null ? randomBytes(24).toString('base64url') : null
  const adminToken = config.adminToken ?? devAdminToken
  let store: Awaited<ReturnType<typeof openStore>>
  try {
    store = await openStore(
      config.store,
      { maxUpdates: config.historySize, maxAgeMs: config.historyAgeMs },
      {
        onError: (error) => logger.error({ err: error, store: config.store.kind }, 'store error'),
        onReconnect: (connection) =>
          logger.info({ store: config.store.kind, connection }, 'store reconnected'),
      },
    )
  } catch (error) {
    if (error instanceof ConfigError) throw error
    throw new ConfigError(
      `Cannot open the store (${config.store.kind}): ${(error as Error).message}`,
    )
  }
  const metrics = createMetrics()
  let hub: ReturnType<typeof createSsehubServer>
  try {
    hub = createSsehubServer({
      logger,
      heartbeatMs: config.heartbeatMs,
      maxQueueBytes: config.maxQueueBytes,
      stallTimeoutMs: config.stallTimeoutMs,
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
      maxConnections: config.maxConnections,
      http2MaxStreams: config.http2MaxStreams,
      tls: config.tls,
      metrics,
      metricsToken: config.metricsToken,
      metricsListen: config.metricsListen,
      webhooks: config.webhooks,
      adminToken,
      maxHeaderBytes: config.maxHeaderBytes,
      // The chat demo mints tokens for any nickname: it runs only in development mode. It answers
      // only requests addressed to localhost, an IP address, or the name HOST gives.
      chat: devSecret !== null ? { signingKey: devSecret, allowedHosts: [config.host] } : null,
      mercure: {
        store,
        publisherKey: devSecret ?? (config.publisherKey as string),
        subscriberKey: devSecret ?? (config.subscriberKey as string),
        publisherAlgorithms: config.publisherAlgorithms,
        subscriberAlgorithms: config.subscriberAlgorithms,
        anonymous: config.anonymous,
        corsOrigins: config.corsOrigins,
        publishOrigins: config.publishOrigins,
        // The chat's presence list is made of subscription events: development mode turns them on.
        subscriptions: config.subscriptions || config.devMode,
        subscriptionEventLimits: {
          perSecond: config.subscriptionEventRate,
          maxSelectors: config.subscriptionEventSelectors,
        },
        protocols: config.protocols,
        trustedIssuers: config.trustedIssuers,
        resourceIdentifier: config.resourceIdentifier ?? undefined,
        publicUrls: config.publicUrls ?? undefined,
        // Unset: both the 1.0 and the 0.x cookie are read.
        ...(config.cookieName === null ? {} : { cookieName: config.cookieName }),
        maxBodyBytes: config.maxBodyBytes,
        publishLimits: { maxIdBytes: config.maxIdBytes },
        bodyTimeoutMs: config.bodyTimeoutMs,
        maxLifetimeMs: config.maxLifetimeMs,
        subscriptionLimits: {
          maxTemplateWork: config.maxTemplateWork,
          maxTemplateStates: config.maxTemplateStates,
          maxSubscriptionsPerAddress: config.maxSubscriptionsPerAddress,
          maxSubscriptionsPerToken: config.maxSubscriptionsPerToken,
        },
      },
    })
  } catch (error) {
    await store.close()
    // Key problems are configuration mistakes; their messages say which setting and how to fix it.
    throw new ConfigError((error as Error).message)
  }

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
    await store.close()
    process.exitCode = 1
    return
  }
  const shown = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : address.host
  const base = `${config.tls ? 'https' : 'http'}://${shown.includes(':') ? `[${shown}]` : shown}:${address.port}`
  logger.info(
    { url: base, http2: config.tls !== null, store: config.store.kind, devMode: config.devMode },
    `ssehub listening on ${base}`,
  )
  logger.info(
    `hub: ${base}/.well-known/mercure · clock demo: ${base}/demo/clock/ · hub demo: ${base}/demo/hub/`,
  )
  if (address.metrics !== null) logger.info(`metrics (only there): ${address.metrics.url}/metrics`)
  if (adminToken !== null) logger.info(`dashboard: ${base}/admin/`)
  const protocols = protocolSummary(config)
  logger.info(protocols.fields, protocols.message)

  let stopping = false
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'shutting down')
    hub
      .close()
      .then(() => store.close())
      .then(
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
  // After the handlers: a signal while the banner's token is being signed still shuts down
  // cleanly (the suite sent SIGTERM in that gap under load, and the process died of it).
  if (devSecret !== null) {
    const audience = config.resourceIdentifier ?? `${base}/.well-known/mercure`
    await printDevBanner(devSecret, base, audience, logger, devAdminToken)
  }
}

async function printDevBanner(
  secret: string,
  base: string,
  audience: string,
  logger: Logger,
  adminToken: string | null,
): Promise<void> {
  // A Mercure 1.0 access token from the issuer the hub trusts by default, for the URL printed
  // (its `aud` is the resource identifier derived from it), and the same grants as a 0.x token.
  const token = await mintAccessToken({
    key: secret,
    issuer: DEFAULT_TRUSTED_ISSUER,
    audience,
    publish: [{ match: '*' }],
    subscribe: [{ match: '*' }],
    expiresIn: '24h',
  })
  const legacy = await mintToken({
    key: secret,
    publish: ['*'],
    subscribe: ['*'],
    expiresIn: '24h',
  })
  logger.warn(
    'DEVELOPMENT MODE: no JWT key is configured, so a random one was generated for this run',
  )
  // Printed, not logged: the token is meant to be copied, and must not land in log storage.
  process.stdout.write(`
  ssehub is running in development mode
  --------------------------------------
  No JWT key is configured, so this run generated one and lets anonymous subscribers in.
  For production set SSEHUB_JWT_KEY (or SSEHUB_PUBLISHER_JWT_KEY and SSEHUB_SUBSCRIBER_JWT_KEY).

  Publisher token (Mercure 1.0, valid 24 h for ${audience}, publishes and subscribes to everything):
    ${token}

  The same as a Mercure 0.x token:
    ${legacy}

  Open ${base}/demo/hub/ and publish to it:
    curl -d 'topic=https://example.com/demo' -d 'data=Hello from curl' -H 'Authorization: Bearer ${token}' ${base}/.well-known/mercure
${
  adminToken === null
    ? ''
    : `
  Live dashboard: open ${base}/admin/ and sign in with this admin token (for this run only):
    ${adminToken}
`
}
`)
}

await main()

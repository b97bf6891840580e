import { randomBytes } from 'node:crypto'
import { mintToken } from '../../src/hub/mint-token.ts'
import type { Progress } from '../load/progress.ts'
import { readHistory } from './history.ts'
import type { HubNode } from './hub-node.ts'
import { startStoreHubs } from './hubs.ts'
import { Ledger, type Update } from './ledger.ts'
import type { SoakOptions, StoreKind } from './options.ts'
import { Lane } from './publisher.ts'
import { publishBursts, publishSteadily } from './publishing.ts'
import { createRandom } from './random.ts'
import { type RawReader, startRawReader } from './raw-reader.ts'
import { Reception } from './reception.ts'
import { readRss, startRssSampler, summarizeRss } from './rss.ts'
import { runStorm } from './storm.ts'
import { startTimeline, type TimelineRecorder } from './timeline.ts'
import { startTokenReader, type TokenReader } from './token-reader.ts'
import { type EarliestCatchUp, judge, type Restart, type StoreResult } from './verdict.ts'

const PUBLIC_TOPICS = 16
const PRIVATE_TOPICS = 2
const STEADY_PUBLIC_LANES = 8
/** How often the bar is fed (it draws at most 5 times a second, plain lines far less). */
const PROGRESS_MS = 500
/** How often the hubs' disconnection counters are scraped. */
const SCRAPE_MS = 5000
/** How long publishers keep retrying an update after the load ends. */
const RETRY_GRACE_MS = 60_000
const MIB = 1024 * 1024

/** Runs the load against one store and judges it, showing its phases on `progress`. */
export async function runStore(
  store: StoreKind,
  options: SoakOptions,
  progress: Progress,
): Promise<StoreResult> {
  const random = createRandom(options.seed + store.length * 7919)
  const tag = `${store[0]}${randomBytes(3).toString('hex')}`
  const secret = randomBytes(32).toString('base64url')
  const publicTopics = Array.from({ length: PUBLIC_TOPICS }, (_, i) => `urn:soak:${tag}:t${i}`)
  const privateTopics = Array.from({ length: PRIVATE_TOPICS }, (_, i) => `urn:soak:${tag}:p${i}`)
  const errors: string[] = []
  const hubs = await startStoreHubs(store, options, secret)
  const { nodes } = hubs
  // Whatever happens, stop every client and timer, then every hub.
  const cleanups: Array<() => void> = []
  try {
    const restarting = (): boolean => nodes.some((node) => node.restarting)
    const pickNode = (): HubNode => random.pick(nodes)
    const subscriptionUrl = (node: HubNode, topics: Iterable<string>): string => {
      const url = new URL(node.hubUrl)
      for (const topic of topics) url.searchParams.append('topic', topic)
      return url.href
    }

    const ledger = new Ledger()
    const publisherToken = await mintToken({ key: secret, publish: ['*'], expiresIn: '4h' })
    let loadStart = Date.now()
    const publishEnd = (): number => loadStart + options.warmupMs + options.durationMs
    const lane = (name: string, topic: string, isPrivate: boolean): Lane =>
      new Lane({
        name,
        tag,
        topic,
        private: isPrivate,
        ledger,
        url: () => pickNode().hubUrl,
        token: publisherToken,
        random,
        deadline: () => publishEnd() + RETRY_GRACE_MS,
      })

    // A first update, so that every client starts from a cursor the hub knows.
    const genesis = await lane('G', publicTopics[0] as string, false).publishNext(64)
    if (genesis.ackAt === null) {
      throw new Error(`${store}: the first publish was not acknowledged (${genesis.statuses})`)
    }

    const receptions: Reception[] = []
    const register = (reception: Reception): void => {
      receptions.push(reception)
    }
    const newest = (): Update => ledger.newest() as Update
    let injected = options.inject === null
    let timeline: TimelineRecorder | null = null
    const reception = (
      name: string,
      kind: 'fast' | 'slow' | 'stalled' | 'token',
      topics: readonly string[],
      seesPrivate: boolean,
    ): Reception => {
      const made = new Reception(ledger, {
        name,
        kind,
        topics,
        seesPrivate,
        start: { after: newest() },
        checked: kind !== 'stalled',
        inject: injected ? undefined : (options.inject ?? undefined),
      })
      if (kind !== 'stalled') injected = true
      // Live readers only: a stalled reader's latency is its stall, not the hub's.
      if (kind !== 'stalled') made.onLatency = (ms) => timeline?.latency(ms)
      register(made)
      return made
    }

    const readers: RawReader[] = []
    const tokenReaders: TokenReader[] = []
    cleanups.push(() => {
      for (const reader of readers) reader.close()
      for (const reader of tokenReaders) reader.close()
    })
    const startReader = (
      name: string,
      mode: 'fast' | 'slow' | 'stalled',
      topics: readonly string[],
    ): void => {
      const own = reception(name, mode, topics, false)
      readers.push(
        startRawReader({
          reception: own,
          mode,
          url: () => subscriptionUrl(pickNode(), topics),
          random,
          restarting,
          bytesOnTopics: () => ledger.bytesOn(topics),
          stallMs: options.stallMs,
          stallBytes: options.stallBytes,
        }),
      )
    }
    const someTopics = (min: number, max: number): string[] =>
      random.chance(0.5) ? publicTopics : random.sample(publicTopics, random.int(min, max))
    for (let i = 0; i < options.fast; i++) startReader(`fast-${i}`, 'fast', someTopics(2, 6))
    for (let i = 0; i < options.slow; i++) startReader(`slow-${i}`, 'slow', someTopics(4, 8))
    for (let i = 0; i < options.stalled; i++) startReader(`stalled-${i}`, 'stalled', publicTopics)
    for (let i = 0; i < options.tokenClients; i++) {
      const node = nodes[i % nodes.length] as HubNode
      const topics = [...random.sample(publicTopics, random.int(2, 4)), ...privateTopics]
      tokenReaders.push(
        startTokenReader({
          reception: reception(`token-${i}@${node.name}`, 'token', topics, true),
          hubUrl: node.hubUrl,
          key: secret,
          tokenTtlSeconds: options.tokenTtlSeconds,
          restarting,
        }),
      )
    }

    loadStart = Date.now()
    // Minutes (and RSS samples) count from the end of the warm-up; samples before it are left out.
    const measureStart = loadStart + options.warmupMs
    const rss = startRssSampler(nodes, measureStart)
    cleanups.push(() => rss.stop())
    const deliveries = (): number => receptions.reduce((n, r) => n + r.deliveries, 0)
    const recorder = startTimeline(
      { acknowledged: () => ledger.acked.length, deliveries, nodes },
      measureStart,
      options.warmupMs + options.durationMs,
      options.durationMs,
    )
    timeline = recorder
    cleanups.push(() => recorder.stop())

    // Steady publishers, one per topic they own, and the burst publishers.
    const steadyLanes = [
      ...publicTopics.slice(0, STEADY_PUBLIC_LANES).map((topic, i) => lane(`S${i}`, topic, false)),
      ...privateTopics.map((topic, i) => lane(`P${i}`, topic, true)),
    ]
    const burstLanes = Array.from({ length: options.burstPublishers }, (_, i) =>
      lane(`B${i}`, publicTopics[i % PUBLIC_TOPICS] as string, false),
    )
    const steady = publishSteadily(steadyLanes, options.rate, publishEnd, random)
    const bursting = publishBursts(burstLanes, options, publishEnd, random)

    // Restarts (durable stores only) and storms, spread over the load.
    const restarts: Restart[] = []
    const restartCount = store === 'memory' ? 0 : options.restarts
    const restartPlan = Array.from({ length: restartCount }, (_, i) => ({
      at: 0.25 + (0.5 * (i + 1)) / (restartCount + 1),
      node: nodes[i % nodes.length] as HubNode,
      signal: (i % 2 === 0 ? 'SIGKILL' : 'SIGTERM') as NodeJS.Signals,
    }))
    const restarting_ = restartPlan.map(async (plan) => {
      await sleep(options.warmupMs + plan.at * options.durationMs)
      const began = Date.now()
      progress.log(`soak ${store}: restarting ${plan.node.name} with ${plan.signal}`)
      recorder.mark(`${plan.signal.replace('SIG', '')} ${plan.node.name}`)
      try {
        await plan.node.restart(plan.signal)
      } catch (error) {
        errors.push(
          `restart of ${plan.node.name} failed: ${(error as Error).message.slice(0, 500)}`,
        )
        return
      }
      restarts.push({
        node: plan.node.name,
        signal: plan.signal,
        atSeconds: (began - measureStart) / 1000,
        downMs: Date.now() - began,
      })
    })
    const earliest: EarliestCatchUp[] = []
    // Storms are spread evenly, each in the middle of its share of the load, so that the minutes
    // the flatness rule compares carry the same load: with storms from 20 % to 90 % of the run,
    // the second minute had none and the last one followed a storm (memory store: 203 against
    // 234 MiB, 115 %, seed 1546591506). The warm-up has the same cadence (one a minute), so the
    // working set has met several storms before the measured minutes.
    const stormTimes = Array.from(
      { length: options.storms },
      (_, i) => options.warmupMs + ((i + 0.5) / options.storms) * options.durationMs,
    )
    const warmupStorms = Math.ceil(options.warmupMs / 60_000)
    for (let i = warmupStorms - 1; i >= 0; i--) {
      stormTimes.unshift(((i + 0.5) / warmupStorms) * options.warmupMs)
    }
    const storms = stormTimes.map(async (delay, i) => {
      await sleep(delay)
      progress.log(`soak ${store}: reconnect storm ${i + 1}: ${options.stormClients} new clients`)
      recorder.mark(`storm ${i + 1}`)
      for (const reader of readers) if (reader.reception.kind !== 'stalled') reader.bounce()
      const stormContext = {
        ledger,
        options,
        random,
        topics: publicTopics,
        url: (topics: readonly string[]) => subscriptionUrl(pickNode(), topics),
        restarting,
        register,
      }
      const earliestCount = Math.min(options.stormClients, options.durationMs < 60_000 ? 1 : 2)
      earliest.push(...(await runStorm(stormContext, i, options.stormClients, earliestCount)))
    })

    // One bar per store through its phases: warm-up and load (time), drain (readers caught
    // up), history (reading it back). Fed twice a second from this process's timer; the bar
    // itself draws at most 5 times a second, and plain lines every 10 % or 10 s.
    const bar = progress.begin(`soak ${store}`, { unit: 'time' })
    // Ended with its figures once judged; this is for a run that throws before.
    cleanups.push(() => bar.end('stopped early'))
    let phase: 'load' | 'drain' | 'history' = 'load'
    // Readers still owed updates once the storms are over (`null` until then), and when the
    // drain and history phases began.
    const drain = { total: null as number | null, left: 0, start: 0, historyStart: 0 }
    let lastScrape = Date.now()
    const ticker = setInterval(() => {
      const now = Date.now()
      if (now - lastScrape >= SCRAPE_MS) {
        lastScrape = now
        // Scraped now and then: a SIGKILLed hub's counters are those of its last scrape.
        for (const node of nodes) void node.disconnections()
      }
      const live =
        readers.filter((r) => r.connected).length + tokenReaders.filter((r) => r.connected).length
      const sizes = nodes
        .map((node) => {
          const bytes = node.pid === null ? null : readRss(node.pid)
          return `${node.name} ${bytes === null ? 'down' : `${(bytes / MIB).toFixed(0)} MiB`}`
        })
        .join(', ')
      const detail = `${ledger.acked.length} acknowledged (${(ledger.ackedBytes / MIB).toFixed(1)} MiB), ${ledger.pending()} pending; ${live}/${readers.length + tokenReaders.length} readers up, ${deliveries()} deliveries; restarts ${restarts.length}; rss ${sizes}`
      const elapsed = now - measureStart
      if (phase === 'load' && elapsed < 0) {
        bar.update(options.warmupMs + elapsed, {
          phase: 'warm-up',
          total: options.warmupMs,
          detail,
        })
      } else if (phase === 'load') {
        bar.update(elapsed, { phase: 'load', total: options.durationMs, detail })
      } else if (phase === 'drain') {
        bar.update(drain.total === null ? now - drain.start : drain.total - drain.left, {
          phase: 'drain',
          unit: drain.total === null ? 'time' : 'count',
          total: drain.total,
          detail: `readers catching up; ${detail}`,
        })
      } else {
        bar.update(now - drain.historyStart, {
          phase: 'history',
          unit: 'time',
          total: null,
          detail,
        })
      }
    }, PROGRESS_MS)
    cleanups.push(() => clearInterval(ticker))

    await Promise.all([steady, bursting, ...restarting_])
    const seconds = (Date.now() - measureStart) / 1000
    phase = 'drain'
    drain.start = Date.now()
    await Promise.all(storms)

    // Every reading client must now reach everything it is owed, within the drain time.
    const drainStart = Date.now()
    let waiting = receptions
      .filter((r) => r.checked && r.kind !== 'storm' && r.kind !== 'earliest')
      .map((r) => ({ reception: r, remaining: r.owed() }))
    drain.total = waiting.length
    drain.left = waiting.length
    while (Date.now() - drainStart < options.drainMs) {
      for (const entry of waiting) {
        entry.remaining = entry.remaining.filter((update) => !entry.reception.has(update.id))
      }
      waiting = waiting.filter((entry) => entry.remaining.length > 0)
      drain.left = waiting.length
      if (waiting.length === 0) break
      await sleep(250)
    }
    phase = 'history'
    drain.historyStart = Date.now()

    // The hub's order: the history as a subscriber to everything reads it back from `earliest`.
    const readerToken = await mintToken({ key: secret, subscribe: ['*'], expiresIn: '1h' })
    const last = ledger.newest()
    const history =
      last === undefined
        ? null
        : await readHistory((nodes[0] as HubNode).hubUrl, readerToken, last.id, options.drainMs)

    const record = recorder.stop()
    bar.end(`${ledger.acked.length} acknowledged, ${deliveries()} deliveries`)
    for (const cleanup of cleanups.splice(0)) cleanup()
    const disconnections: Record<string, number> = {}
    for (const node of nodes) {
      for (const [reason, count] of Object.entries(await node.disconnections())) {
        disconnections[reason] = (disconnections[reason] ?? 0) + count
      }
    }

    // The hub must end each stream at its token's `exp`, so each client renews its token.
    if (options.durationMs >= 3 * options.tokenTtlSeconds * 1000) {
      const unrenewed = tokenReaders.filter((reader) => reader.tokens < 2)
      if (unrenewed.length > 0) {
        errors.push(
          `${unrenewed.map((reader) => reader.reception.name).join(', ')} never renewed their ${options.tokenTtlSeconds} s token: the hub did not end their streams at exp`,
        )
      }
    }
    const deepest = earliest.reduce<EarliestCatchUp | null>(
      (best, entry) => (best === null || entry.receivedMiB > best.receivedMiB ? entry : best),
      null,
    )
    return judge({
      store,
      seconds,
      ledger,
      loadStart,
      receptions,
      stalls: readers.flatMap((reader) => reader.stalls),
      stallBytes: options.stallBytes,
      history,
      historySize: options.historySize,
      hubDisconnections: disconnections,
      restarts,
      tokens: tokenReaders.reduce((n, reader) => n + reader.tokens, 0),
      tokenClientsGaveUp: tokenReaders.reduce((n, reader) => n + reader.gaveUp, 0),
      tokenErrors: tally(tokenReaders.map((reader) => reader.errors)),
      earliest: deepest,
      rss: nodes.map((node) =>
        summarizeRss(node.name, rss.samples, options.durationMs, options.maxRssMiB),
      ),
      timeline: record,
      errors,
    })
  } finally {
    for (const cleanup of cleanups) cleanup()
    await hubs.cleanup()
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function tally(counts: readonly Readonly<Record<string, number>>[]): Record<string, number> {
  const total: Record<string, number> = {}
  for (const each of counts) {
    for (const [key, count] of Object.entries(each)) total[key] = (total[key] ?? 0) + count
  }
  return total
}

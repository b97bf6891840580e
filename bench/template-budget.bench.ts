// Template budget: what subscribers' URI templates cost every publish, with the hub's limits.
//
//   npm run bench:templates   (= node --import tsx bench/template-budget.bench.ts [connections, default 2000] [seconds, default 5] [diverse|uniform, default diverse])
//
// Runs the hub (src/ through tsx, memory store, anonymous subscribers, its default limits) in its
// own process, opens `connections` subscriptions from 4 loopback addresses (127.0.0.1–4: an
// attacker with several addresses, each within the cap per address), then publishes for
// `seconds` on 4 keep-alive connections, each update to one connection's own topic, and reports
// acknowledged publishes per second, the publish p50 and p99, and the hub's RSS. Topics are
// `diverse` (`https://example.com/<word>/<n>/<word>?<word>=<word>`, words of 1 to 8 letters and
// digits: where the reserved characters fall varies from topic to topic, which defeats the DFA
// cache of the costliest templates) or `uniform` (`https://example.com/users/<n>/notifications`).
// One hub per phase:
//
// 1. exact: each connection subscribes to its topic and 23 more exact topics (run again after 3).
// 2. small templates: its topic and 23 distinct cheap templates with no literal prefix
//    (`{+v<i>x<k>}~`, 45 each: every topic walks them), until the work budget refuses (429);
//    the connections refused then subscribe to their topic and the templates already admitted
//    (identical templates cost nothing more).
// 3. large templates: the same with the costliest kind found, counted prefixes in a row,
//    alternately unreserved and reserved (`{v<i>x<k>:10}{+b1:10}{b2:10}…{+b7:10}~`, 507
//    states, 1041 each).
// 4. no limits, for reference (`--max-template-work off --max-template-states off`): a tenth of
//    the connections, each with 23 distinct large templates, all admitted.
//
// Phases 2 and 3 are the worst the default limits admit; the goal is at least half the
// publishes/s of phase 1. Takes about a minute. SSEHUB_BENCH_ROOT runs another checkout's hub.

import { Agent, request as httpRequest } from 'node:http'
import { readProcs } from './load/proc-stats.ts'
import type { RunningPeer } from './peers/peer.ts'
import { startSsehub } from './peers/ssehub.ts'

const CONNECTIONS = Number(process.argv[2] ?? 2000)
const SECONDS = Number(process.argv[3] ?? 5)
const SELECTORS = 24
const PUBLISHERS = 4
const ADDRESSES = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4']
const HUB_PATH = '/.well-known/mercure'

const DIVERSE = (process.argv[4] ?? 'diverse') === 'diverse'
const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789'

/** A word of 1 to 8 characters drawn from `n` and `i` by a fixed hash: the same every run. */
function word(n: number, i: number): string {
  let h = Math.imul(n + 1, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)
  let text = ''
  const length = 1 + ((h >>> 3) & 7)
  for (let j = 0; j < length; j++) {
    h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d)
    text += ALPHABET[(h >>> 7) % ALPHABET.length]
  }
  return text
}

const topicOf = DIVERSE
  ? (n: number): string =>
      `https://example.com/${word(n, 0)}/${n}/${word(n, 1)}?${word(n, 2)}=${word(n, 3)}`
  : (n: number): string => `https://example.com/users/${n}/notifications`
const small = (i: number, k: number): string => `{+v${i}x${k}}~`
const large = (i: number, k: number): string =>
  `{v${i}x${k}:10}${Array.from({ length: 7 }, (_, j) => `{${j % 2 === 0 ? '+' : ''}b${j + 1}:10}`).join('')}~`

interface Phase {
  name: string
  connections: number
  /** The selectors connection `i` asks for first. */
  selectors(i: number): string[]
  env?: Record<string, string>
}

interface Subscriptions {
  close(): void
  opened: number
  /** Answers 429 on the way. */
  refused: number
  /** Distinct templates admitted (those of the connections not refused). */
  templates: number
}

/** Opens one subscription; resolves with its status, and a function that ends it. */
function subscribe(
  hub: RunningPeer,
  selectors: readonly string[],
  localAddress: string,
): Promise<{ status: number; close: () => void }> {
  const query = selectors.map((s) => `topic=${encodeURIComponent(s)}`).join('&')
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: hub.host, port: hub.port, path: `${HUB_PATH}?${query}`, localAddress, agent: false },
      (res) => {
        res.resume()
        const status = res.statusCode ?? 0
        resolve({ status, close: () => req.destroy() })
        if (status !== 200) req.destroy()
      },
    )
    req.on('error', reject)
    req.end()
  })
}

/**
 * Opens the phase's connections one by one, packing the budgets as an attacker would: a
 * connection refused (429) asks again with half as many new selectors, down to none; once one new
 * template is refused, the rest ask for none. Selectors not asked for are made up with templates
 * already admitted (identical templates cost nothing more).
 */
async function openAll(hub: RunningPeer, phase: Phase): Promise<Subscriptions> {
  const closers: Array<() => void> = []
  const admitted: string[] = []
  let refused = 0
  let full = false
  for (let i = 0; i < phase.connections; i++) {
    const address = ADDRESSES[i % ADDRESSES.length] as string
    const [own, ...wanted] = phase.selectors(i)
    let fresh = full ? 0 : wanted.length
    for (;;) {
      const asked = wanted.slice(0, fresh)
      const shared = admitted.slice(0, SELECTORS - 1 - fresh)
      const answer = await subscribe(hub, [own as string, ...asked, ...shared], address)
      if (answer.status === 200) {
        admitted.push(...asked)
        closers.push(answer.close)
        break
      }
      if (answer.status !== 429 || fresh === 0) throw new Error(`subscribe: ${answer.status}`)
      refused++
      if (fresh === 1) full = true
      fresh >>= 1
    }
  }
  return {
    close: () => {
      for (const close of closers) close()
    },
    opened: closers.length,
    refused,
    templates: new Set(admitted.filter((s) => s.includes('{'))).size,
  }
}

/** Publishes for SECONDS on PUBLISHERS keep-alive connections; publishes/s and latencies. */
async function publishFor(
  hub: RunningPeer,
  connections: number,
): Promise<{ perSecond: number; p50: number; p99: number }> {
  const template = hub.publishTemplate()
  const agent = new Agent({ keepAlive: true, maxSockets: PUBLISHERS })
  const latencies: number[] = []
  let n = 0
  const post = (body: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: hub.host,
          port: hub.publishPort,
          path: template.path,
          method: 'POST',
          agent,
          headers: { ...template.headers, 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume()
          res.on('end', () =>
            res.statusCode === 200 ? resolve() : reject(new Error(`publish: ${res.statusCode}`)),
          )
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  const run = async (until: number): Promise<void> => {
    while (performance.now() < until) {
      const topic = topicOf(n++ % connections)
      const started = performance.now()
      await post(`topic=${encodeURIComponent(topic)}&data=${encodeURIComponent(`{"n":${n}}`)}`)
      latencies.push(performance.now() - started)
    }
  }
  // One second of warm-up, then the measured seconds.
  await Promise.all(Array.from({ length: PUBLISHERS }, () => run(performance.now() + 1000)))
  latencies.length = 0
  const started = performance.now()
  await Promise.all(Array.from({ length: PUBLISHERS }, () => run(started + SECONDS * 1000)))
  const elapsed = (performance.now() - started) / 1000
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const at = (q: number): number => latencies[Math.floor((latencies.length - 1) * q)] ?? 0
  return { perSecond: latencies.length / elapsed, p50: at(0.5), p99: at(0.99) }
}

async function runPhase(phase: Phase): Promise<number> {
  const saved = { ...process.env }
  // The default cap per address, which the bench peer otherwise turns off.
  Object.assign(process.env, { SSEHUB_MAX_PER_ADDRESS: '1000' }, phase.env ?? {})
  let hub: RunningPeer
  try {
    hub = await startSsehub({ store: 'memory', entry: 'src' })
  } finally {
    process.env = saved
  }
  try {
    const opened = performance.now()
    const subscriptions = await openAll(hub, phase)
    const connectMs = performance.now() - opened
    const result = await publishFor(hub, phase.connections)
    const rss = readProcs(hub.pids()).rssBytes
    console.log(
      `| ${phase.name} | ${subscriptions.opened} (${subscriptions.refused} × 429) | ${subscriptions.templates} | ${Math.round(result.perSecond).toLocaleString('en')} | ${result.p50.toFixed(1)} / ${result.p99.toFixed(1)} | ${Math.round(rss / 1048576)} | ${(connectMs / 1000).toFixed(1)} |`,
    )
    subscriptions.close()
    return result.perSecond
  } finally {
    await hub.stop()
  }
}

const exactTopics = (i: number): string[] => [
  topicOf(i),
  ...Array.from({ length: SELECTORS - 1 }, (_, k) => `https://example.com/users/${i}/inbox/${k}`),
]
const withTemplates =
  (make: (i: number, k: number) => string) =>
  (i: number): string[] => [
    topicOf(i),
    ...Array.from({ length: SELECTORS - 1 }, (_, k) => make(i, k)),
  ]

console.log(
  `${CONNECTIONS} connections of ${SELECTORS} selectors, ${PUBLISHERS} publishers for ${SECONDS} s per phase, ${DIVERSE ? 'diverse' : 'uniform'} topics (e.g. ${topicOf(1)})\n`,
)
console.log(
  '| phase | connections | distinct templates | publishes/s | publish p50 / p99 ms | hub RSS MiB | connect s |',
)
console.log('| --- | --- | --- | --- | --- | --- | --- |')
const exactPhase: Phase = { name: 'exact topics', connections: CONNECTIONS, selectors: exactTopics }
// Exact topics first and again after the templates: the machine's drift hits both alike.
const exact = [await runPhase(exactPhase)]
const cheap = await runPhase({
  name: 'small templates, default limits',
  connections: CONNECTIONS,
  selectors: withTemplates(small),
})
const costly = await runPhase({
  name: 'large templates, default limits',
  connections: CONNECTIONS,
  selectors: withTemplates(large),
})
exact.push(await runPhase(exactPhase))
await runPhase({
  name: 'large templates, no limits',
  connections: Math.max(1, Math.round(CONNECTIONS / 10)),
  selectors: withTemplates(large),
  env: { SSEHUB_MAX_TEMPLATE_WORK: 'off', SSEHUB_MAX_TEMPLATE_STATES: 'off' },
})
const baseline = ((exact[0] as number) + (exact[1] as number)) / 2
console.log(
  `\nworst admitted / exact (mean of both runs): ${(Math.min(cheap, costly) / baseline).toFixed(2)} (goal: at least 0.5)`,
)

// Topic matching benchmark: SubscriptionIndex.match() for single-topic updates.
//
//   npm run bench:topics        (= node --import tsx bench/topic-match.bench.ts)
//
// The index holds 10,000 exact subscribers, one per topic https://example.com/books/<n>; 100 `*`
// subscribers; and 100 template subscribers on 100 distinct templates: 90 per-user patterns
// `https://example.com/users/<n>/{?topic}` (which no book topic matches) and 10
// `https://example.com/books/{id}{?v<n>}` (which every book topic matches). Each update has one
// topic drawn at random from the 10,000, so a match() call visits 111 subscribers: 1 exact, 100
// `*`, 10 template. Measured: match() calls per second (and subscriber visits per second), the
// median of several timed runs after warm-up; then the same for indexes holding only one kind of
// subscriber, to show where the time goes. Runs in a few seconds.

import { SubscriptionIndex } from '../src/hub/subscription-index.ts'

const TOPICS = 10_000
const CALLS = 200_000
const WARMUP_RUNS = 3
const TIMED_RUNS = 11

interface Subscriber {
  readonly id: number
  received: number
}

// Through JSON, as a hub gets them from a parsed request: flat strings, not concatenations.
const topics: string[] = JSON.parse(
  JSON.stringify(Array.from({ length: TOPICS }, (_, n) => `https://example.com/books/${n}`)),
)
// A fixed pseudo-random order (xorshift), the same for every run.
let seed = 2463534242
const updates = Array.from({ length: CALLS }, () => {
  seed ^= seed << 13
  seed ^= seed >>> 17
  seed ^= seed << 5
  return [topics[(seed >>> 0) % TOPICS] as string] as const
})

function build(kinds: { exact: boolean; wildcard: boolean; templates: boolean }) {
  const index = new SubscriptionIndex<Subscriber>()
  let id = 0
  const subscriber = () => ({ id: id++, received: 0 })
  if (kinds.exact) for (const topic of topics) index.add(topic, subscriber())
  if (kinds.wildcard) for (let n = 0; n < 100; n++) index.add('*', subscriber())
  if (kinds.templates) {
    for (let n = 0; n < 90; n++) index.add(`https://example.com/users/${n}/{?topic}`, subscriber())
    for (let n = 0; n < 10; n++) index.add(`https://example.com/books/{id}{?v${n}}`, subscriber())
  }
  return index
}

function median(samples: number[]): number {
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[sorted.length >> 1] as number
}

function measure(label: string, index: SubscriptionIndex<Subscriber>): void {
  let visits = 0
  const visit = (subscriber: Subscriber) => {
    subscriber.received++
    visits++
  }
  const samples: number[] = []
  for (let run = 0; run < WARMUP_RUNS + TIMED_RUNS; run++) {
    visits = 0
    const start = performance.now()
    for (const update of updates) index.match(update, visit)
    const elapsed = performance.now() - start
    if (run >= WARMUP_RUNS) samples.push(elapsed)
  }
  const seconds = median(samples) / 1000
  const calls = Math.round(CALLS / seconds).toLocaleString('en')
  const perSecond = Math.round(visits / seconds).toLocaleString('en')
  console.log(
    `${label.padEnd(34)} ${calls.padStart(12)} match()/s ${perSecond.padStart(14)} visits/s  (${(visits / CALLS).toFixed(0)} visits/call)`,
  )
}

console.log(`node ${process.version}, ${CALLS.toLocaleString('en')} single-topic updates per run\n`)
measure(
  '10k exact + 100 * + 100 templates',
  build({ exact: true, wildcard: true, templates: true }),
)
measure('10k exact only', build({ exact: true, wildcard: false, templates: false }))
measure('100 * only', build({ exact: false, wildcard: true, templates: false }))
measure('100 templates only', build({ exact: false, wildcard: false, templates: true }))

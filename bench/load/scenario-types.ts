// The shape of a benchmark scenario and of what it measured: declared by each bench file, run by
// scenario.ts, printed and charted by report.ts. Its own file so that neither of those two
// imports the other back.

import type { PeerName, PeerOptions, RunningPeer } from '../peers/peer.ts'
import type { LoadGenerator } from './generator.ts'

/** One figure a scenario reports per peer. */
export interface Metric {
  key: string
  label: string
  unit: string
  /** Which way is better, for the ratios' reading. */
  better: 'higher' | 'lower'
  /** Drawn in the chart. Defaults to `true`. */
  chart?: boolean
}

/** What a scenario measured against one peer. */
export interface PeerResult {
  metrics: Record<string, number>
  /** Deliveries expected and not received. */
  lost: number
  duplicates: number
  /** Subscriber connections that failed to open, or that the server dropped. */
  failedConnections: number
  latencySamples: number
  /** Free-form remarks shown under the table (e.g. "2 publishes failed"). */
  notes: string[]
}

/** What a scenario's `run` gets. */
export interface RunContext<P> {
  peer: RunningPeer
  gen: LoadGenerator
  params: P
  /** Prints an indented progress line. */
  log(text: string): void
}

/** A benchmark scenario, run against each peer by {@link runScenario}. */
export interface Scenario<P extends object> {
  /**
   * The bench file's stem: `fan-out` for `bench/fan-out.bench.ts`; a file with variants names
   * them after it (`fan-out-4k` in `bench/fan-out-payloads.bench.ts`).
   */
  id: string
  title: string
  /** One or two sentences: what is measured, with which load. */
  description: string
  defaults: P
  metrics: Metric[]
  /** Peers this scenario runs against by default. Defaults to all. */
  peers?: readonly PeerName[]
  /** History and the like each peer needs. */
  peerOptions?(params: P): PeerOptions
  /** Longest one peer's run may take, in ms. */
  timeoutMs(params: P): number
  run(context: RunContext<P>): Promise<PeerResult>
}

/** The outcome of a whole scenario run. */
export interface ScenarioRun<P extends object> {
  scenario: Scenario<P>
  params: P
  results: Partial<Record<PeerName, PeerResult | { error: string }>>
  startedAt: string
  seconds: number
  loadAverage: number[]
}

// The messages between the load generator (parent) and its worker processes, over Node's IPC
// channel with the 'advanced' serialization, so typed arrays of samples cross without JSON.

/** How a publisher builds a request: `{topic}`, `{payload}` and `{seq}` are filled in per update. */
export interface PublishTemplate {
  /** Request target, e.g. `/pub?id={topic}`. */
  path: string
  /** Extra header lines (`name: value`), without Host and Content-Length. */
  headers: Record<string, string>
  /** Body, e.g. `topic=…{topic}&data={payload}`. */
  body: string
}

/** Parent → subscriber worker: open these SSE connections. */
export interface SubscribeCommand {
  type: 'subscribe'
  host: string
  port: number
  /** One request target per connection. */
  paths: string[]
  /** Extra request header lines, e.g. `Last-Event-ID: …`. */
  headers: Record<string, string>
  /** Connection attempts in flight at once. */
  concurrency: number
  /** Sequence numbers are below this: sizes each connection's duplicate bitmap. */
  seqSpace: number
  /** Latency samples kept (the rest are counted, not kept). */
  maxSamples: number
  /** Give up on a connection that has no response headers after this long. */
  connectTimeoutMs: number
}

/** Parent → publisher worker: publish these updates. */
export interface PublishCommand {
  type: 'publish'
  host: string
  port: number
  template: PublishTemplate
  /** Topic names; update `seq` goes to `topics[seq % topics.length]`. */
  topics: string[]
  /** Sequence numbers this worker publishes: `seqStart`, `seqStart + seqStride`, … */
  seqStart: number
  seqStride: number
  /** How many updates at most. */
  count: number
  /** Keep-alive connections, one request in flight on each. */
  connections: number
  /** Updates per second from this worker, or `null` for as fast as they are acknowledged. */
  rate: number | null
  /** Bytes of `data` per update. */
  payloadBytes: number
  /** Stop sending after this long, whatever is left. */
  durationMs: number
  /** Acknowledgements before this long after the start are not counted (warm-up). */
  warmupMs: number
  /** Sequence numbers whose response body to return (to learn the id a server gave). */
  captureSeqs: number[]
}

/**
 * Parent → publisher worker: token streams. Stream `i` publishes only to `topics[i]`, on its own
 * keep-alive connection (kept open between commands until `close-streams`), one request in
 * flight, on a schedule of its own or back to back.
 */
export interface StreamCommand {
  type: 'stream'
  host: string
  port: number
  template: PublishTemplate
  /** One topic per stream, hence per connection. */
  topics: string[]
  /** Index of `topics[0]` among all streams (of every worker): seeds sizes, staggers schedules. */
  firstStream: number
  /** Streams in all, over every worker. */
  totalStreams: number
  /** Each stream's sequence numbers run from here (they are per stream, not global). */
  seqStart: number
  /** Updates per stream at most. */
  count: number
  /** Updates per second per stream, or `null` for back to back. */
  rate: number | null
  /** Bytes of `data`, drawn uniformly in [min, max] per update from a generator seeded per stream. */
  payloadMin: number
  payloadMax: number
  seed: number
  /** Stop sending after this long, whatever is left. */
  durationMs: number
}

export type WorkerCommand =
  | SubscribeCommand
  | PublishCommand
  | StreamCommand
  | { type: 'close-streams' }
  | { type: 'collect' }
  | { type: 'reset' }
  | { type: 'close-subscribers' }
  | { type: 'exit' }

/** Worker → parent, every 100 ms while subscribers are open. */
export interface TickReport {
  type: 'tick'
  connected: number
  failed: number
  /** Payload events received, duplicates included. */
  received: number
  /** Distinct (connection, sequence) pairs received. */
  unique: number
  /** Connections the server closed or broke. */
  dropped: number
}

export interface SubscribedReport {
  type: 'subscribed'
  connected: number
  failed: number
  /** Why connections failed: `status 503`, `ECONNRESET`, `timeout`, … with counts. */
  failures: Record<string, number>
  /** hrtime (ns) of the first connection attempt and of the last response headers. */
  firstStartNs: number
  lastConnectedNs: number
}

export interface CollectReport {
  type: 'collected'
  received: number
  unique: number
  duplicates: number
  /** Events whose data was not a bench payload, or whose sequence number was out of range. */
  foreign: number
  dropped: number
  /** Distinct updates received, per connection, in the order of `paths`. */
  uniquePerConnection: Uint32Array
  /** Publish-to-receive latencies in microseconds (at most `maxSamples`). */
  samples: Float64Array
  /** Latencies seen but not kept because `maxSamples` was reached. */
  samplesDropped: number
  /** hrtime (ns) of the first and last payload received; 0 when none. */
  firstReceiveNs: number
  lastReceiveNs: number
  /** This worker's own CPU time so far, in ms (to show the generator is not saturated). */
  cpuMs: number
}

export interface PublishedReport {
  type: 'published'
  sent: number
  /** Answered with a 2xx. */
  acknowledged: number
  /** Acknowledged inside the measuring window (after `warmupMs`). */
  acknowledgedInWindow: number
  windowMs: number
  /** Non-2xx answers and network errors, by status (`0` for a network error). */
  failures: Record<string, number>
  /** Send-to-acknowledgement latencies in microseconds. */
  ackLatencies: Float64Array
  /** hrtime (ns) of the first send and of the last acknowledgement. */
  firstSendNs: number
  lastAckNs: number
  /** Response bodies of the `captureSeqs`. */
  captured: Record<string, string>
  cpuMs: number
}

export interface StreamedReport {
  type: 'streamed'
  sent: number
  /** Answered with a 2xx. */
  acknowledged: number
  /** Acknowledged updates per stream, in the order of `topics`. */
  acknowledgedPerStream: Uint32Array
  /** Non-2xx answers and network errors, by status (`0` for a network error). */
  failures: Record<string, number>
  /** Bytes of `data` in acknowledged updates. */
  payloadBytes: number
  /** How late each paced send was against its schedule, in microseconds (empty when unpaced). */
  lateness: Float64Array
  /** hrtime (ns) of the schedule's start, the first send and the last acknowledgement. */
  startNs: number
  firstSendNs: number
  lastAckNs: number
  cpuMs: number
}

export type WorkerReport =
  | TickReport
  | SubscribedReport
  | CollectReport
  | PublishedReport
  | StreamedReport
  | { type: 'streams-closed' }
  | { type: 'reset-done' }
  | { type: 'closed' }
  | { type: 'error'; message: string }

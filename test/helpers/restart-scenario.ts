import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type HubProcess, publisherToken, publishTo, startHubProcess } from './hub-process.ts'
import { type Nginx, nginxSkipReason, startNginx } from './nginx.ts'
import { sleep } from './raw-sse.ts'
import { freePort } from './redis.ts'
import { type GateRequest, startTcpGate, type TcpGate } from './tcp-gate.ts'

/** A `message` event as a client handed it to the application. */
export interface Surfaced {
  /** Its `lastEventId`. */
  readonly id: string
  readonly data: string
}

/** What a client did so far, as its application sees it. */
export interface ClientState {
  /** Every `message` event it handed to the application, in order. */
  readonly received: Surfaced[]
  /** How many times its connection failed or ended (its `error` events, or errors caught). */
  readonly failures: number
  /** Whether it stopped reconnecting for good on its own (after an answer it does not retry). */
  readonly gaveUp: boolean
}

/** A third-party SSE client, driven the way an application would use it. */
export interface ClientUnderTest {
  /** Also its tag in the URL (`client=<name>`), so the gate can tell its requests apart. */
  readonly name: string
  /** Starts subscribing at `url`; resolves once it is under way (not necessarily connected). */
  start(url: string): Promise<void>
  state(): Promise<ClientState>
  close(): Promise<void>
}

/** What became of one client over a {@link runRestartScenario}. */
export interface ClientOutcome extends ClientState {
  /** Whether it tried to reconnect while the hub was down (else the downtime went untested). */
  readonly triedDuringDowntime: boolean
  /** Whether a request of its reached the restarted hub and was answered 200. */
  readonly reconnected: boolean
  /** Its requests that reached the gate in front of the hub, in order. */
  readonly requests: readonly GateRequest[]
}

/** What a {@link runRestartScenario} published, and what each client made of it. */
export interface RestartOutcome {
  /** Every update acknowledged by the hub, in order. */
  readonly published: Surfaced[]
  readonly clients: ReadonlyMap<string, ClientOutcome>
}

export interface RestartScenarioOptions {
  readonly clients: readonly ClientUnderTest[]
  /** Whether the clients go through nginx with docs/nginx.conf, or straight to the hub. */
  readonly behindNginx: boolean
  /**
   * Called with the origin the clients will subscribe at, before any starts (a browser test
   * opens its page there, so that the clients are same-origin).
   */
  readonly beforeStart?: (origin: string) => Promise<void>
}

/**
 * Why the nginx variants cannot run here, or `null`. CI (any of `REQUIRE_NGINX=1`,
 * `REQUIRE_BROWSER=1`, `REQUIRE_REDIS=1`) installs nginx: a missing one fails there.
 */
export function nginxScenarioSkipReason(): string | null {
  const flag = ['REQUIRE_NGINX', 'REQUIRE_BROWSER', 'REQUIRE_REDIS'].find(
    (name) => process.env[name] === '1',
  )
  return nginxSkipReason(flag !== undefined, `${flag}=1`)
}

const TOPIC = 'urn:ssehub:test:third-party'
/** Long enough for the slowest backoff seen (event-source-polyfill doubles up to 16 s). */
const RECONNECT_MS = 60_000
const DELIVERY_MS = 20_000

/**
 * The restart every client must live through, against a hub that keeps its history in SQLite:
 *
 * 1. each client subscribes and gets two updates (so it holds an id: a client without one when
 *    it drops loses what is published before it is back; that trade-off is the hub's, not the
 *    client's);
 * 2. the hub is stopped by SIGTERM (its streams end cleanly) and started again on the same port,
 *    behind a gate that refuses every request until each client has tried to come back at least
 *    once (or has stopped trying for good);
 * 3. two updates are published while the gate is still closed: certainly before any client is
 *    back, so they can only reach it through its cursor;
 * 4. the gate opens; once each client has reached the hub again, two more updates follow, live.
 *
 * Behind nginx, nginx talks to the gate: while it is closed nginx finds no live upstream and
 * answers the reconnecting clients itself. Every wait is bounded, and a client that gave up is
 * not waited for: the outcome says what each client got, for the test to judge.
 */
export async function runRestartScenario(options: RestartScenarioOptions): Promise<RestartOutcome> {
  const dir = mkdtempSync(join(tmpdir(), 'ssehub-third-party-'))
  const env = { SSEHUB_STORE: `sqlite:${join(dir, 'hub.db')}` }
  let hub: HubProcess | undefined
  let gate: TcpGate | undefined
  let nginx: Nginx | undefined
  const { clients } = options
  const started: ClientUnderTest[] = []
  try {
    const port = await freePort()
    hub = await startHubProcess(env, port)
    const opened = await startTcpGate(port)
    gate = opened
    if (options.behindNginx) {
      // Every node the documented upstream lists is this one hub (through the gate).
      const nodes = readFileSync(new URL('../../docs/nginx.conf', import.meta.url), 'utf8').match(
        /^\s*server 127\.0\.0\.1:\d+ /gm,
      )
      nginx = await startNginx(Array.from({ length: nodes?.length ?? 1 }, () => opened.host))
    }
    const origin = nginx?.base ?? gate.base
    await options.beforeStart?.(origin)

    const token = await publisherToken()
    const published: Surfaced[] = []
    const publish = async (target: HubProcess): Promise<void> => {
      const n = published.length + 1
      const update = { id: `urn:ssehub:test:third-party:${n}`, data: JSON.stringify({ n }) }
      const { status, body } = await publishTo(target.hubUrl, token, { topic: TOPIC, ...update })
      assert.equal(status, 200, `the hub acknowledged ${update.id}: ${body}`)
      published.push(update)
    }
    const { requests } = gate
    const requestsOf = (name: string): GateRequest[] =>
      requests.filter(
        (request) => new URL(request.target, origin).searchParams.get('client') === name,
      )
    const answered = (name: string, since: number): boolean =>
      requestsOf(name).some((request) => request.at >= since && request.status === 200)
    const states = (): Promise<ClientState[]> => Promise.all(clients.map((c) => c.state()))
    /** Waits for `condition` on each client at once; resolves with whether each held. */
    const eachClient = (
      condition: (state: ClientState, i: number) => boolean,
      timeoutMs: number,
    ): Promise<boolean[]> =>
      Promise.all(
        clients.map((client, i) =>
          waitUntil(async () => condition(await client.state(), i), timeoutMs),
        ),
      )

    // 1. Subscribed (the hub answered, so it registered them), then two updates each.
    for (const client of clients) {
      const url = new URL('/.well-known/mercure', origin)
      url.searchParams.set('topic', TOPIC)
      url.searchParams.set('client', client.name)
      await client.start(url.href)
      started.push(client)
    }
    await Promise.all(clients.map((c) => waitUntil(() => answered(c.name, 0), DELIVERY_MS)))
    await publish(hub)
    await publish(hub)
    await eachClient((state) => state.received.length >= 2, DELIVERY_MS)

    // 2 and 3. Down, then up again on the same port with two updates, the gate still closed
    // until every client has failed twice since: its stream's end, then one attempt to come back.
    const beforeDowntime = await states()
    gate.close()
    await hub.stop('SIGTERM')
    hub = await startHubProcess(env, port)
    await publish(hub)
    await publish(hub)
    const tried = (state: ClientState, i: number): boolean =>
      state.failures >= (beforeDowntime[i]?.failures ?? 0) + 2
    await eachClient((state, i) => state.gaveUp || tried(state, i), RECONNECT_MS)
    const triedDuringDowntime = (await states()).map(tried)
    const reopened = performance.now()
    gate.open()

    // 4. Back (or given up), then two live updates.
    await eachClient(
      (state, i) => state.gaveUp || answered(clients[i]?.name ?? '', reopened),
      RECONNECT_MS,
    )
    const back = clients.map((client) => answered(client.name, reopened))
    await publish(hub)
    await publish(hub)
    const total = published.length
    await eachClient((state, i) => !back[i] || state.received.length >= total, DELIVERY_MS)

    const outcome = new Map<string, ClientOutcome>()
    for (const [i, state] of (await states()).entries()) {
      const { name } = clients[i] as ClientUnderTest
      outcome.set(name, {
        ...state,
        triedDuringDowntime: triedDuringDowntime[i] === true,
        reconnected: back[i] === true,
        requests: requestsOf(name),
      })
    }
    return { published, clients: outcome }
  } finally {
    await Promise.allSettled(started.map((client) => client.close()))
    await nginx?.stop()
    await gate?.stop()
    await hub?.stop('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Polls `condition` every 50 ms; resolves `true` once it holds, `false` after `timeoutMs`. */
async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    if (await condition()) return true
    if (performance.now() >= deadline) return false
    await sleep(50)
  }
}

/** How a request carried its cursor: the header, a query parameter, or none. */
export function cursorOf(request: GateRequest): string {
  if (request.lastEventIdHeader !== undefined) return `Last-Event-ID: ${request.lastEventIdHeader}`
  const query = new URL(request.target, 'http://hub').searchParams
  for (const name of ['lastEventId', 'lastEventID', 'last_event_id', 'Last-Event-ID']) {
    const value = query.get(name)
    if (value !== null) return `?${name}=${value}`
  }
  return 'no cursor'
}

/** What happened to a client, in a few lines: for diagnostics and failure messages. */
export function storyOf(client: ClientOutcome): string {
  return [
    `tried to reconnect while the hub was down: ${client.triedDuringDowntime}`,
    `reconnected to the restarted hub: ${client.reconnected}`,
    `gave up for good: ${client.gaveUp}`,
    `errors: ${client.failures}`,
    `requests that reached the gate: ${client.requests
      .map(
        (request) =>
          `${request.refused ? 'refused' : (request.status ?? 'no answer')} with ${cursorOf(request)}`,
      )
      .join('; ')}`,
  ].join('\n  ')
}

/**
 * Fails unless the client ended with every update exactly once, in order, and nothing else (no
 * event nobody published, such as an empty `message` at connect), and tried to come back while
 * the hub was down; the message tells its story. Returns that story.
 */
export function assertKeptItsPlace(outcome: RestartOutcome, name: string): string {
  const client = outcome.clients.get(name)
  assert.ok(client !== undefined, `${name} took part`)
  const story = storyOf(client)
  assert.deepEqual(
    client.received,
    outcome.published,
    `${name} got every update once, in order, and nothing else\n  ${story}`,
  )
  assert.ok(
    client.triedDuringDowntime,
    `${name} tried to reconnect during the downtime\n  ${story}`,
  )
  return story
}

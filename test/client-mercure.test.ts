// ssehub/client against a real hub in Mercure 1.0: match parameters, the token in the
// Authorization header, subscription events as `mercure` events, and the hub's gap signal.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { SseClient, type SseClientOptions, type SseGapEvent } from '../src/client/index.ts'
import { mintAccessToken } from '../src/hub/mint-token.ts'
import { startTestHub, TEST_SECRET, type TestHub } from './helpers/hub-server.ts'

const SUBSCRIPTION_EVENTS = '/.well-known/mercure/subscriptions/:match_type/:match/:subscriber'

describe('SseClient with Mercure 1.0 against the hub', () => {
  let hub: TestHub
  const clients = new Set<SseClient>()
  before(async () => {
    hub = await startTestHub({ subscriptions: true, trustedIssuers: [{ issuer: 'ssehub' }] })
  })
  after(async () => {
    for (const client of clients) client.close()
    await hub.close()
  })

  const connect = (options: SseClientOptions): SseClient => {
    const client = new SseClient(hub.hubUrl, options)
    clients.add(client)
    return client
  }
  const next = <E extends Event>(client: SseClient, type: string): Promise<E> =>
    new Promise((resolve) =>
      client.addEventListener(type, (event) => resolve(event as unknown as E), { once: true }),
    )
  const token = (subscribe: Array<{ match: string; match_type?: 'exact' | 'urlpattern' }>) =>
    mintAccessToken({
      key: TEST_SECRET,
      issuer: 'ssehub',
      audience: hub.hubUrl,
      subscribe,
      payload: { name: 'test' },
    })

  it('receives a private update, its access token sent as an Authorization header', async () => {
    const bearer = await token([{ match: 'urn:client:private' }])
    const client = connect({
      match: ['urn:client:private'],
      headers: () => ({ authorization: `Bearer ${bearer}` }),
    })
    await next(client, 'open')
    const received = next<MessageEvent<string>>(client, 'message')
    await hub.publishOk({ topic: 'urn:client:private', data: 'secret', private: 'on' })
    assert.equal((await received).data, 'secret')
    client.close()
  })

  it('dispatches subscription events as mercure events', async () => {
    const bearer = await token([{ match: '*' }])
    const watcher = connect({
      matchUrlPattern: [SUBSCRIPTION_EVENTS],
      headers: { authorization: `Bearer ${bearer}` },
    })
    await next(watcher, 'open')
    const messages: string[] = []
    watcher.onmessage = (event) => messages.push(event.data)
    const events: Array<Record<string, unknown>> = []
    const seen = new Promise<void>((resolve) => {
      watcher.addEventListener('mercure', (event) => {
        const document = JSON.parse(event.data) as Record<string, unknown>
        events.push(document)
        if (document['match'] === 'urn:client:watched') resolve()
      })
    })
    const other = connect({
      match: ['urn:client:watched'],
      headers: { authorization: `Bearer ${bearer}` },
    })
    await seen
    const document = events.find((event) => event['match'] === 'urn:client:watched')
    assert.equal(document?.['type'], 'subscription')
    assert.equal(document?.['match_type'], 'exact')
    assert.equal(document?.['active'], true)
    assert.deepEqual(document?.['payload'], { name: 'test' })
    assert.deepEqual(messages, [])
    other.close()
    watcher.close()
  })

  it('tells one gap on a resume the history cannot serve, and moves its cursor to the newest id', async () => {
    const head = await hub.publishOk({ topic: 'urn:client:gap', data: 'before' })
    const client = connect({ match: ['urn:client:gap'], gapSignal: true, lastEventId: 'urn:gone' })
    const gaps: SseGapEvent[] = []
    client.addEventListener('gap', (gap) => gaps.push(gap))
    const mercure: string[] = []
    client.addEventListener('mercure', (event) => mercure.push(event.data))
    await next(client, 'open')
    // The gap block's id: the next resume starts from the newest id, not the lost one.
    for (let i = 0; i < 100 && client.lastEventId !== head; i++) await sleep(10)
    assert.equal(client.lastEventId, head)
    const live = next<MessageEvent<string>>(client, 'message')
    await hub.publishOk({ topic: 'urn:client:gap', data: 'after' })
    assert.equal((await live).data, 'after')
    assert.equal(gaps.length, 1)
    assert.equal(gaps[0]?.requestedId, 'urn:gone')
    assert.deepEqual(mercure, [])
    client.close()
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  capturingLogger,
  countingCluster,
  options,
  SECRET,
  sleep,
  startReceiver,
  subscriber,
  until,
} from '../../test/helpers/presence-webhook-fakes.ts'
import type { ClusterView, EventStore, LostNode } from '../hub/index.ts'
import { createPresenceWebhooks, serverWebhooks } from './presence-webhooks.ts'

// What the presence webhooks send and where: the events each URL's fragment selects, node-lost
// ones included, the options they refuse, and the server's wiring. How they deliver (queue,
// retries, order) is in presence-webhooks-delivery.test.ts.

describe('createPresenceWebhooks', () => {
  it('sends each URL only the events its fragment selects, node-lost ones included', async () => {
    const receiver = await startReceiver()
    let listener: ((node: LostNode) => void) | undefined
    let stopped = false
    const cluster: ClusterView = {
      nodeId: 'node-a',
      // Never answers: each event's node comes from `nodeId`, not from the listing.
      nodes: () => new Promise(() => {}),
      onNodeLost(next) {
        listener = next
        return () => {
          stopped = true
        }
      },
    }
    const webhooks = createPresenceWebhooks(
      options(
        [
          `${receiver.url}/all`,
          `${receiver.url}/joins#subscribe`,
          `${receiver.url}/leaves#unsubscribe`,
          `${receiver.url}/lost#node-lost`,
          `${receiver.url}/gone#unsubscribe,node-lost`,
        ],
        { cluster },
      ),
    )
    try {
      // No wait: this node's id is known from the start, its first event carries it.
      const ada = subscriber(1, {
        protocol: '1.0',
        selectors: ['\u0001https://example.com/users/ada', 'https://example.com/{id}'],
        claims: { subscribePayloads: [{ selectors: ['*'], payload: { name: 'Ada' } }] },
      })
      webhooks.subscribed(ada)
      webhooks.disconnected('lifetime', ada)
      assert.ok(listener, 'listens for lost nodes')
      listener({
        id: 'node-b',
        subscribers: [
          { id: 'urn:uuid:lost-1', selectors: ['https://example.com/a'], payload: { name: 'Bob' } },
          { id: 'urn:uuid:lost-2', selectors: ['*'] },
        ],
      })
      await until(
        () => receiver.received.length === 4 + 1 + 1 + 2 + 3,
        'every selected event arrived',
      )
      await sleep(50)
      assert.equal(receiver.received.length, 11, 'nothing unselected arrives later')
      const at = (path: string) =>
        receiver.received.filter((r) => r.path === path).map((r) => r.event)
      const kinds = (path: string) =>
        at(path)
          .map((e) => `${e.type}:${e.reason ?? ''}:${e.subscriber}`)
          .sort()
      assert.deepEqual(kinds('/joins'), [`subscribe::${ada.id}`])
      assert.deepEqual(kinds('/leaves'), [`unsubscribe:lifetime:${ada.id}`])
      assert.deepEqual(kinds('/lost'), [
        'unsubscribe:node-lost:urn:uuid:lost-1',
        'unsubscribe:node-lost:urn:uuid:lost-2',
      ])
      assert.deepEqual(kinds('/gone'), [...kinds('/leaves'), ...kinds('/lost')].sort())
      assert.deepEqual(kinds('/all'), [...kinds('/joins'), ...kinds('/gone')].sort())
      assert.ok(receiver.received.every((r) => r.signed && r.id === r.event.id))

      const [join] = at('/joins')
      assert.deepEqual(
        { ...join, id: undefined, time: undefined },
        {
          id: undefined,
          time: undefined,
          type: 'subscribe',
          node: 'node-a',
          subscriber: ada.id,
          protocol: '1.0',
          selectors: [
            { type: 'exact', match: 'https://example.com/users/ada' },
            { type: 'template', match: 'https://example.com/{id}' },
          ],
          payload: { name: 'Ada' },
        },
      )
      assert.ok(Number.isFinite(Date.parse(join?.time ?? '')))
      const lost = at('/lost').find((e) => e.subscriber === 'urn:uuid:lost-1')
      assert.deepEqual(
        { ...lost, id: undefined, time: undefined },
        {
          id: undefined,
          time: undefined,
          type: 'unsubscribe',
          node: 'node-b',
          subscriber: 'urn:uuid:lost-1',
          protocol: null,
          selectors: [{ type: 'exact', match: 'https://example.com/a' }],
          payload: { name: 'Bob' },
          reason: 'node-lost',
        },
      )
      // One event, one id, on every URL that takes it.
      assert.equal(new Set(at('/all').map((e) => e.id)).size, 4)
      assert.deepEqual(
        at('/joins').map((e) => e.id),
        at('/all')
          .filter((e) => e.type === 'subscribe')
          .map((e) => e.id),
      )
    } finally {
      await webhooks.close()
      await receiver.close()
    }
    assert.equal(stopped, true, 'stops listening to the cluster on close')
  })

  it('listens for lost nodes (and so, with Redis, claims them) only when a URL takes node-lost', async () => {
    const { cluster, listening } = countingCluster()
    const none = createPresenceWebhooks(
      options(
        ['https://app.example/a#subscribe,unsubscribe', 'https://app.example/b#unsubscribe'],
        {
          cluster,
        },
      ),
    )
    assert.equal(listening(), 0, 'no listener: a node that would drop the events must not claim')
    assert.equal(await none.close(), 0)
    const one = createPresenceWebhooks(
      options(['https://app.example/a#subscribe', 'https://app.example/b#node-lost'], { cluster }),
    )
    assert.equal(listening(), 1, 'one listener when one URL takes node-lost')
    assert.equal(await one.close(), 0)
    assert.equal(listening(), 0, 'stops listening on close')
  })

  it('refuses a short secret and unusable URLs without quoting them, and warns of plain http off loopback', async () => {
    assert.throws(
      () => createPresenceWebhooks({ urls: ['https://a.example/h'], secret: 'x'.repeat(31) }),
      (error: unknown) => error instanceof RangeError && !error.message.includes('xxxx'),
    )
    assert.throws(() => createPresenceWebhooks({ urls: [], secret: SECRET }), TypeError)
    assert.throws(
      () =>
        createPresenceWebhooks(options(['https://a.example/ok', 'mailto:token-123@example.com'])),
      (error: unknown) =>
        error instanceof TypeError &&
        /URL 2/.test(error.message) &&
        !error.message.includes('token-123'),
    )
    const { logger, lines } = capturingLogger()
    const webhooks = createPresenceWebhooks(
      options(
        [
          'http://app.example/h',
          'https://app.example/h',
          'http://127.0.0.1:9/h',
          'http://localhost:9/h',
        ],
        { logger },
      ),
    )
    assert.equal(lines.filter((l) => l.includes('plain http')).length, 1)
    assert.deepEqual(
      webhooks.targets.map((t) => t.label),
      ['http://app.example', 'https://app.example', 'http://127.0.0.1:9', 'http://localhost:9'],
    )
    assert.equal(await webhooks.close(), 0)
  })

  it("serverWebhooks: none without options; with them, the cluster of the hub's store is watched", async () => {
    const { logger } = capturingLogger()
    assert.equal(serverWebhooks({}, logger), null)
    assert.equal(serverWebhooks({ webhooks: null }, logger), null)
    const { cluster, listening } = countingCluster()
    const store = { cluster } as unknown as EventStore
    const webhooks = serverWebhooks(
      { webhooks: options(['https://app.example/h']), mercure: { store } },
      logger,
    )
    assert.ok(webhooks)
    assert.equal(listening(), 1)
    assert.equal(await webhooks.close(), 0)
  })
})

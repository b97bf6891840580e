import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { mintToken } from '../src/hub/mint-token.ts'
import {
  type HubProcess,
  publisherToken,
  publishTo,
  type ReceivedEvent,
  type ResumingSubscriber,
  resumingSubscriber,
  startHubProcess,
} from './helpers/hub-process.ts'
import { TEST_SECRET } from './helpers/hub-server.ts'
import { sleep } from './helpers/raw-sse.ts'
import { deleteKeys, REDIS_URL, redisSkipReason, uniquePrefix } from './helpers/redis.ts'

const skip = (await redisSkipReason()) ?? false

/** `SSEHUB_STORE` for nodes of one hub on the shared Redis, under a key prefix of their own. */
function storeUrl(prefix: string): string {
  return `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`
}

/** Runs `test` with `count` hub processes sharing one fresh prefix; stops them and cleans up. */
async function withNodes(
  count: number,
  env: Record<string, string>,
  test: (nodes: HubProcess[]) => Promise<void>,
): Promise<void> {
  const prefix = uniquePrefix('nodes')
  const started = await Promise.allSettled(
    Array.from({ length: count }, () =>
      startHubProcess({ SSEHUB_STORE: storeUrl(prefix), ...env }),
    ),
  )
  const nodes = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []))
  try {
    for (const result of started) if (result.status === 'rejected') throw result.reason
    await test(nodes)
  } finally {
    await Promise.all(nodes.map((node) => node.stop('SIGKILL')))
    await deleteKeys(prefix)
  }
}

function topicUrl(node: HubProcess, topics: readonly string[]): string {
  return `${node.hubUrl}?${topics.map((t) => `topic=${encodeURIComponent(t)}`).join('&')}`
}

/** The ids received, checked to be free of duplicates. */
function idsOf(events: readonly ReceivedEvent[]): string[] {
  const ids = events.map((event) => event.lastEventId)
  assert.equal(new Set(ids).size, ids.length, 'no update twice')
  return ids
}

describe('several hub nodes on one Redis', { skip }, () => {
  it('delivers every update to every subscriber on every node exactly once, in publish order per topic', async () => {
    await withNodes(3, {}, async (nodes) => {
      const topics = ['urn:nodes:a', 'urn:nodes:b', 'urn:nodes:c', 'urn:nodes:spread']
      const subscribers: Array<{ selectors: string[]; sub: ResumingSubscriber }> = []
      for (const node of nodes) {
        for (let k = 0; k < 8; k++) {
          // Half take every topic, half one topic each.
          const selectors = k % 2 === 0 ? topics : [topics[k % 4] as string]
          subscribers.push({
            selectors,
            sub: await resumingSubscriber(() => topicUrl(node, selectors), 1),
          })
        }
      }
      const token = await publisherToken()
      const PER_TOPIC = 100
      const published = new Map<string, string[]>(topics.map((topic) => [topic, []]))
      // One publisher per topic, awaiting each answer: a, b and c each on a node of their own,
      // "spread" going round the nodes, so its order is set across nodes.
      await Promise.all(
        topics.map(async (topic, t) => {
          for (let n = 0; n < PER_TOPIC; n++) {
            const node = nodes[t === 3 ? n % 3 : t] as HubProcess
            const id = `${topic}:${n}`
            const { status, body } = await publishTo(node.hubUrl, token, {
              topic,
              id,
              data: JSON.stringify({ topic, n }),
            })
            assert.equal(status, 200, body)
            published.get(topic)?.push(id)
          }
        }),
      )

      for (const { selectors, sub } of subscribers) {
        await sub.waitForEvents(selectors.length * PER_TOPIC)
        const ids = idsOf(sub.events)
        assert.equal(ids.length, selectors.length * PER_TOPIC, 'nothing more either')
        for (const topic of selectors) {
          const received = sub.events
            .filter((event) => (JSON.parse(event.data) as { topic: string }).topic === topic)
            .map((event) => event.lastEventId)
          assert.deepEqual(received, published.get(topic), `${topic}, in publish order`)
        }
        assert.equal(sub.connections, 1)
        sub.close()
      }
    })
  })

  it('lets the clients of a node killed with SIGKILL resume on another node with their last id and miss nothing', async () => {
    await withNodes(3, {}, async (nodes) => {
      const [a, b, c] = nodes as [HubProcess, HubProcess, HubProcess]
      let aDead = false
      const subscribers: ResumingSubscriber[] = []
      for (let i = 0; i < 6; i++) {
        // Four on the node to be killed; they move to b or c once it is gone.
        const home = i < 4 ? a : i === 4 ? b : c
        const other = i % 2 === 0 ? b : c
        subscribers.push(
          await resumingSubscriber(() =>
            topicUrl(aDead && home === a ? other : home, ['urn:kill']),
          ),
        )
      }
      const token = await publisherToken()
      const TOTAL = 400
      const acknowledged: string[] = []
      let killed: Promise<void> | undefined
      for (let n = 0; n < TOTAL; n++) {
        const id = `urn:kill:${n}`
        const { status, body } = await publishTo((n % 2 === 0 ? b : c).hubUrl, token, {
          topic: 'urn:kill',
          id,
          data: `update ${n}`,
        })
        assert.equal(status, 200, body)
        acknowledged.push(id)
        if (n === 150) {
          // Mid-stream: the publisher does not wait for the kill, updates keep coming meanwhile.
          aDead = true
          killed = a.stop('SIGKILL')
        }
      }
      await killed
      for (const [i, sub] of subscribers.entries()) {
        await sub.waitForEvents(TOTAL)
        assert.deepEqual(idsOf(sub.events), acknowledged, `subscriber ${i}`)
        if (i < 4) {
          assert.ok(sub.connections >= 2, 'it reconnected')
          assert.ok(sub.resumedFrom.length >= 1, 'with its last id, found in the history')
        }
        sub.close()
      }
    })
  })

  it('lists the subscriptions of every node and sends their events to watchers on any node', async () => {
    await withNodes(3, { SSEHUB_SUBSCRIPTIONS: 'true' }, async (nodes) => {
      const [a, b, c] = nodes as [HubProcess, HubProcess, HubProcess]
      const watcherToken = await mintToken({
        key: TEST_SECRET,
        subscribe: ['/.well-known/mercure/subscriptions{/topic}{/subscriber}'],
      })
      const watcher = await resumingSubscriber(
        () =>
          `${c.hubUrl}?topic=${encodeURIComponent('/.well-known/mercure/subscriptions{/topic}{/subscriber}')}&authorization=${watcherToken}`,
        1,
      )
      const onA = await resumingSubscriber(() => topicUrl(a, ['urn:presence:a']), 1)
      const onB = await resumingSubscriber(() => topicUrl(b, ['urn:presence:b']), 1)
      // Its own subscription's event, then a's and b's (in either order: two nodes).
      const presence = (): Array<[unknown, unknown]> =>
        watcher.events
          .map((e) => JSON.parse(e.data) as { topic: string; active: boolean })
          .filter((d) => d.topic.startsWith('urn:presence:'))
          .map((d) => [d.topic, d.active])
      await watcher.waitForEvents(3)
      assert.deepEqual(presence().sort(), [
        ['urn:presence:a', true],
        ['urn:presence:b', true],
      ])

      const list = async (): Promise<string[]> => {
        const res = await fetch(`${c.base}/.well-known/mercure/subscriptions`, {
          headers: { authorization: `Bearer ${watcherToken}` },
        })
        assert.equal(res.status, 200)
        const body = (await res.json()) as { subscriptions: Array<{ topic: string }> }
        return body.subscriptions.map((s) => s.topic).sort()
      }
      // Every node's subscribers, listed by a node that has none of its own (but the watcher).
      assert.deepEqual(await list(), [
        '/.well-known/mercure/subscriptions{/topic}{/subscriber}',
        'urn:presence:a',
        'urn:presence:b',
      ])

      // A node stopped cleanly: its subscribers leave the listing, and watchers hear it.
      onA.close()
      await a.stop('SIGTERM')
      await watcher.waitForEvents(4)
      assert.deepEqual(presence().at(-1), ['urn:presence:a', false])
      let listed: string[] = []
      for (let attempt = 0; attempt < 50; attempt++) {
        listed = await list()
        if (!listed.includes('urn:presence:a')) break
        await sleep(100)
      }
      assert.deepEqual(listed, [
        '/.well-known/mercure/subscriptions{/topic}{/subscriber}',
        'urn:presence:b',
      ])
      onB.close()
      watcher.close()
    })
  })
})

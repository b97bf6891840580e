import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createRedisStore, type RedisStore } from '../src/storage/redis.ts'
import {
  type HubProcess,
  publisherToken,
  publishTo,
  type ResumingSubscriber,
  resumingSubscriber,
  startHubProcess,
} from './helpers/hub-process.ts'
import { startTestHub, type TestHub } from './helpers/hub-server.ts'
import { sleep } from './helpers/raw-sse.ts'
import { redisCommand, redisSkipReason, startOwnRedis } from './helpers/redis.ts'
import { type SseSubscription, subscribeSse } from './helpers/sse-events.ts'

const skip = (await redisSkipReason({ server: true })) ?? false

async function readyz(node: HubProcess): Promise<number> {
  try {
    return (await fetch(`${node.base}/readyz`, { signal: AbortSignal.timeout(5000) })).status
  } catch {
    return 0
  }
}

describe('hub nodes while their Redis stops and restarts', { skip }, () => {
  it('answer 503 to publishes and /readyz while Redis is down, then resume with no acknowledged update missing', async () => {
    // A Redis of this test's own (never the shared one), keeping its data in an append-only file.
    const redis = await startOwnRedis()
    const nodes: HubProcess[] = []
    const subscribers: ResumingSubscriber[] = []
    try {
      const starting = [0, 1].map(() =>
        startHubProcess({ SSEHUB_STORE: `${redis.url}?prefix=outage:` }),
      )
      for (const result of await Promise.allSettled(starting)) {
        if (result.status === 'fulfilled') nodes.push(result.value)
        else throw result.reason
      }
      const [a, b] = nodes as [HubProcess, HubProcess]
      for (const node of nodes) {
        for (let i = 0; i < 3; i++) {
          subscribers.push(await resumingSubscriber(() => `${node.hubUrl}?topic=urn:outage`))
        }
      }
      const token = await publisherToken()
      const acknowledged: string[] = []
      const statusesWhileDown: number[] = []
      let n = 0
      let phase = 'up' as 'up' | 'down' | 'back'
      // One publisher alternating between the nodes, awaiting each answer, bounded in count.
      const publishing = (async () => {
        while (n < 5000 && !(phase === 'back' && acknowledged.length >= 300)) {
          const id = `urn:outage:${n}`
          const node = n % 2 === 0 ? a : b
          n++
          const phaseAtSend = phase
          const { status, body } = await publishTo(node.hubUrl, token, {
            topic: 'urn:outage',
            id,
            data: `update ${id}`,
          })
          if (status === 200) {
            assert.equal(body, id)
            acknowledged.push(id)
          } else {
            assert.equal(status, 503, `a publish fails with 503 only, got ${status}: ${body}`)
          }
          if (phaseAtSend === 'down' && phase === 'down') statusesWhileDown.push(status)
          await sleep(2)
        }
      })()

      let finished = false
      publishing
        .finally(() => {
          finished = true
        })
        .catch(() => {})
      for (
        let waited = 0;
        acknowledged.length < 100 && !finished && waited < 20_000;
        waited += 10
      ) {
        await sleep(10)
      }
      assert.ok(acknowledged.length >= 100, 'publishing works before the outage')
      await redis.stop()
      phase = 'down'
      await sleep(1500)
      assert.deepEqual([await readyz(a), await readyz(b)], [503, 503], '/readyz while down')
      phase = 'back'
      await redis.start()
      await publishing

      assert.ok(statusesWhileDown.length >= 5, 'publishes were tried while Redis was down')
      assert.deepEqual(
        [...new Set(statusesWhileDown)],
        [503],
        'never 200 for an update that could not be stored',
      )
      assert.deepEqual([await readyz(a), await readyz(b)], [200, 200], '/readyz once back')
      const last = acknowledged.at(-1) as string
      for (const [i, sub] of subscribers.entries()) {
        const deadline = Date.now() + 20_000
        while (sub.events.at(-1)?.lastEventId !== last && Date.now() < deadline) await sleep(20)
        const ids = sub.events.map((event) => event.lastEventId)
        assert.equal(new Set(ids).size, ids.length, `subscriber ${i}: no update twice`)
        // Answered 503 but possibly stored (Redis died after storing, before answering): such an
        // update may be delivered too. Every acknowledged one must be, in order.
        const acked = new Set(acknowledged)
        assert.deepEqual(
          ids.filter((id) => acked.has(id)),
          acknowledged,
          `subscriber ${i} got every acknowledged update, in order`,
        )
      }
    } finally {
      for (const sub of subscribers) sub.close()
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')))
      await redis.cleanup()
    }
  })
  it('answers 503 "may have been stored" to a publish Redis took but did not confirm in time, and its retry is stored once', async () => {
    // A Redis of this test's own: pausing the shared one would stall every other test.
    const redis = await startOwnRedis()
    const topic = 'urn:unconfirmed'
    let store: RedisStore | undefined
    let hub: TestHub | undefined
    let sub: SseSubscription | undefined
    try {
      store = await createRedisStore({ url: redis.url, commandTimeoutMs: 300 })
      const started = await startTestHub({ store })
      hub = started
      /** Publishes while Redis holds write commands past the timeout; returns the id to retry. */
      const publishUnconfirmed = async (fields: Record<string, string>): Promise<string> => {
        // As a hung or overloaded Redis would: it takes the command and runs it 1.5 s later.
        await redisCommand(['CLIENT', 'PAUSE', '1500', 'WRITE'], redis.url)
        const res = await started.publish(fields)
        const text = await res.text()
        assert.equal(res.status, 503, text)
        assert.equal(res.headers.get('retry-after'), '1')
        const id = decodeURIComponent(res.headers.get('mercure-update-id') ?? '')
        assert.match(text, /may have been stored/)
        assert.ok(text.includes(`Retry with id=${id}:`), text)
        return id
      }
      sub = await subscribeSse(`${hub.hubUrl}?topic=${topic}`)
      const update = { topic, id: 'urn:unconfirmed:1', data: 'chosen id' }
      assert.equal(await publishUnconfirmed(update), update.id)
      // Redis runs what it held: the update is delivered after all, so a 503 saying "not
      // stored" would have been false, and its retry a second copy.
      await sub.waitForEvents(1)
      assert.equal(await hub.publishOk(update), update.id, 'the retry: 200, the same id')

      // With no id of the publisher's: the generated one is named, so the retry can reuse it.
      const generated = { topic, data: 'generated id' }
      const id = await publishUnconfirmed(generated)
      assert.match(id, /^urn:uuid:/)
      await sub.waitForEvents(2)
      assert.equal(await hub.publishOk({ ...generated, id }), id)

      await hub.publishOk({ topic, id: 'urn:unconfirmed:last', data: 'last' })
      await sub.waitForEvents(3)
      await sleep(50)
      assert.deepEqual(
        sub.events.map((event) => event.lastEventId),
        [update.id, id, 'urn:unconfirmed:last'],
        'each update exactly once',
      )
    } finally {
      sub?.close()
      await hub?.close()
      await store?.close()
      await redis.cleanup()
    }
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  type HubProcess,
  publisherToken,
  publishTo,
  type ResumingSubscriber,
  resumingSubscriber,
  startHubProcess,
} from './helpers/hub-process.ts'
import { type Nginx, nginxSkipReason, startNginx } from './helpers/nginx.ts'
import { sleep } from './helpers/raw-sse.ts'
import {
  deleteKeys,
  REDIS_REQUIRED,
  REDIS_URL,
  redisSkipReason,
  uniquePrefix,
} from './helpers/redis.ts'

const skip =
  (await redisSkipReason()) ?? nginxSkipReason(REDIS_REQUIRED, 'REQUIRE_REDIS=1') ?? false

describe('hub nodes behind nginx', { skip }, () => {
  it('stream through the documented config without buffering, and survive a node being stopped', async () => {
    const prefix = uniquePrefix('nginx')
    const nodes: HubProcess[] = []
    const subscribers: ResumingSubscriber[] = []
    let nginx: Nginx | undefined
    try {
      const store = `${REDIS_URL}/0?prefix=${encodeURIComponent(prefix)}`
      const starting = [0, 1].map(() => startHubProcess({ SSEHUB_STORE: store }))
      for (const result of await Promise.allSettled(starting)) {
        if (result.status === 'fulfilled') nodes.push(result.value)
        else throw result.reason
      }
      const [first, second] = nodes as [HubProcess, HubProcess]
      nginx = await startNginx(nodes.map((node) => new URL(node.base).host))
      const hubUrl = `${nginx.base}/.well-known/mercure`
      // Round robin: these land on both nodes.
      for (let i = 0; i < 6; i++) {
        subscribers.push(await resumingSubscriber(() => `${hubUrl}?topic=urn:lb`))
      }
      const token = await publisherToken()
      const acknowledged: string[] = []
      const publish = async (n: number): Promise<void> => {
        const id = `urn:lb:${n}`
        // A publisher retries what was not acknowledged, as clients of a 503 should.
        for (let attempt = 0; attempt < 20; attempt++) {
          const { status } = await publishTo(hubUrl, token, { topic: 'urn:lb', id, data: `${n}` })
          if (status === 200) {
            acknowledged.push(id)
            return
          }
          assert.ok([0, 502, 503].includes(status), `publish answered ${status}`)
          await sleep(50)
        }
        throw new Error(`${id} was never acknowledged`)
      }

      // Unbuffered: a single small event reaches every subscriber at once, not at the end.
      const started = Date.now()
      await publish(0)
      for (const sub of subscribers) await sub.waitForEvents(1, 2000)
      assert.ok(Date.now() - started < 2000)

      let stopped: Promise<void> | undefined
      for (let n = 1; n < 300; n++) {
        await publish(n)
        if (n === 100) stopped = first.stop('SIGTERM')
      }
      await stopped
      const last = acknowledged.at(-1)
      for (const [i, sub] of subscribers.entries()) {
        for (
          let waited = 0;
          sub.events.at(-1)?.lastEventId !== last && waited < 20_000;
          waited += 20
        ) {
          await sleep(20)
        }
        const ids = sub.events.map((event) => event.lastEventId)
        assert.deepEqual(ids, acknowledged, `subscriber ${i}: every update once, in order`)
      }
      const moved = subscribers.filter((sub) => sub.connections >= 2)
      assert.ok(moved.length >= 1, 'the subscribers of the stopped node reconnected through nginx')
      for (const sub of moved) assert.ok(sub.resumedFrom.length >= 1, 'with their Last-Event-ID')
      assert.equal((await fetch(`${nginx.base}/readyz`)).status, 200, 'the other node serves')
      assert.ok(second.child.exitCode === null)
    } finally {
      for (const sub of subscribers) sub.close()
      await nginx?.stop()
      await Promise.all(nodes.map((node) => node.stop('SIGKILL')))
      await deleteKeys(prefix)
    }
  })
})

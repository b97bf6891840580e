import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Update } from '../hub/update.ts'
import { databaseOf, type PubSubConnection, RedisEventRelay } from './redis-relay.ts'

/** A stand-in for the driver's duplicate connection: records what the relay asks of it. */
function fakeConnection() {
  const handlers = new Map<string, (error?: unknown) => void>()
  let onMessage: ((message: string) => void) | undefined
  const connection: PubSubConnection & { subscriptions: string[]; destroyed: boolean } = {
    subscriptions: [],
    destroyed: false,
    async connect() {
      handlers.get('ready')?.()
    },
    async subscribe(channel, listener) {
      connection.subscriptions.push(channel)
      onMessage = listener
    },
    on(event, listener) {
      handlers.set(event, listener)
    },
    destroy() {
      connection.destroyed = true
    },
  }
  return {
    connection,
    publish: (message: string) => onMessage?.(message),
    fail: (error: Error) => handlers.get('error')?.(error),
  }
}

const EVENT: Update = { id: '#e', topics: ['/t'], data: '{"a":1}', private: true }

describe('RedisEventRelay', () => {
  it('subscribes on its own connection and hands every well-formed event to its listeners', async () => {
    const fake = fakeConnection()
    const relay = new RedisEventRelay({
      channel: 'p:subscription-events:0',
      connect: () => fake.connection,
      send: async () => 1,
      onError: () => {},
    })
    await relay.start(1000)
    assert.deepEqual(fake.connection.subscriptions, ['p:subscription-events:0'])
    const received: Update[] = []
    relay.onEvent((event) => received.push(event))
    fake.publish(JSON.stringify(EVENT))
    for (const junk of ['nope', '{}', '{"id":"x","topics":[],"data":"","private":true}']) {
      fake.publish(junk)
    }
    assert.deepEqual(received, [EVENT])
    relay.close()
    assert.equal(fake.connection.destroyed, true)
    fake.publish(JSON.stringify(EVENT))
    assert.equal(received.length, 1, 'nothing after close')
  })

  it('publishes on the command connection, and reports a failure once per outage', async () => {
    const fake = fakeConnection()
    const sent: string[][] = []
    const errors: Error[] = []
    let down = false
    const relay = new RedisEventRelay({
      channel: 'c',
      connect: () => fake.connection,
      send: async (args) => {
        if (down) throw new Error('ECONNREFUSED')
        sent.push([...args])
        return 1
      },
      onError: (error) => errors.push(error),
    })
    await relay.start(1000)
    relay.send(EVENT)
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(sent, [['PUBLISH', 'c', JSON.stringify(EVENT)]])
    down = true
    relay.send(EVENT)
    relay.send(EVENT)
    fake.fail(new Error('socket closed'))
    fake.fail(new Error('socket closed'))
    await new Promise((resolve) => setImmediate(resolve))
    assert.deepEqual(errors.map((e) => e.message).sort(), [
      'cannot receive subscription events: socket closed',
      'could not send subscription events: ECONNREFUSED',
    ])
    relay.close()
  })
})

describe('databaseOf', () => {
  it('reads the database number of a Redis URL, 0 when it names none', () => {
    assert.equal(databaseOf('redis://127.0.0.1:6379/3'), '3')
    assert.equal(databaseOf('redis://127.0.0.1:6379/03'), '3')
    assert.equal(databaseOf('redis://127.0.0.1:6379'), '0')
    assert.equal(databaseOf('rediss://user:pw@host/'), '0')
    assert.equal(databaseOf('not a url'), '0')
  })
})

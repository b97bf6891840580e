import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { accessToken, DETAIL, grant, ISSUER, RESOURCE } from './helpers/access-token.ts'
import { startTestHub } from './helpers/hub-server.ts'
import { subscribeSse } from './helpers/sse-events.ts'

// Mercure 1.0 (draft-dunglas-mercure-08) beside 0.x on one hub: what the Mercure project's own
// conformance suite checks (see scripts/mercure-conformance.sh), and the MUSTs it does not.

describe('Mercure 1.0 identity, metadata and limits', () => {
  it('derives the resource identifier from the URL the client used, and serves the metadata', async () => {
    const hub = await startTestHub({ trustedIssuers: [{ issuer: ISSUER }], subscriptions: true })
    try {
      const resource = hub.hubUrl
      const metadata = await fetch(
        `${hub.base}/.well-known/oauth-protected-resource/.well-known/mercure`,
      )
      assert.equal(metadata.status, 200)
      assert.equal(metadata.headers.get('content-type'), 'application/json')
      assert.deepEqual(await metadata.json(), {
        resource,
        authorization_details_types_supported: [DETAIL],
        bearer_methods_supported: ['header'],
        mercure_cookie: '__Secure-mercure_access_token',
        mercure_matcher_types_supported: ['exact', 'urlpattern'],
        mercure_subscriptions: true,
      })
      const own = await accessToken([grant(['publish'], { match: '*' })], { aud: [resource, 'x'] })
      assert.equal((await hub.publish([['topic', 'urn:a']], own)).status, 200)
      // The pinned identifier of the other suite is not this hub's.
      const other = await accessToken([grant(['publish'], { match: '*' })])
      assert.equal((await hub.publish([['topic', 'urn:a']], other)).status, 401)
    } finally {
      await hub.close()
    }
  })

  it('answers 421 to an origin outside the public URLs, before reading any token', async () => {
    const hub = await startTestHub({
      trustedIssuers: [{ issuer: ISSUER }],
      publicUrls: ['https://hub.example.com'],
    })
    try {
      const res = await fetch(`${hub.hubUrl}?match=a`)
      assert.equal(res.status, 421)
      assert.match(await res.text(), /https:\/\/hub\.example\.com/)
      const publish = await hub.publish([['topic', 'urn:a']], 'not-even-a-token')
      assert.equal(publish.status, 421)
    } finally {
      await hub.close()
    }
  })

  it('re-authorises replayed private updates against the token presented now', async () => {
    const hub = await startTestHub({
      trustedIssuers: [{ issuer: ISSUER }],
      resourceIdentifier: RESOURCE,
    })
    try {
      const publisher = await accessToken([grant(['publish'], { match: '*' })])
      const topic = `urn:replay:${crypto.randomUUID()}`
      const start = await hub.publish([['topic', topic]], publisher)
      const first = await start.text()
      for (const data of ['private one', 'private two']) {
        await hub.publish(
          [
            ['topic', topic],
            ['data', data],
            ['private', 'on'],
          ],
          publisher,
        )
      }
      await hub.publish(
        [
          ['topic', topic],
          ['data', 'public'],
        ],
        publisher,
      )
      const resume = `${hub.hubUrl}?match=${topic}&last_event_id=${encodeURIComponent(first)}`
      const anonymous = await subscribeSse(resume)
      const [only] = await anonymous.waitForEvents(1)
      assert.equal(only?.data, 'public')
      const reader = await accessToken([grant(['subscribe'], { match: topic })])
      const granted = await subscribeSse(resume, { authorization: `Bearer ${reader}` })
      const events = await granted.waitForEvents(3)
      assert.deepEqual(
        events.map((event) => event.data),
        ['private one', 'private two', 'public'],
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
      assert.equal(anonymous.events.length, 1)
      anonymous.close()
      granted.close()
    } finally {
      await hub.close()
    }
  })

  it('counts URL patterns in the hub-wide matching budget: by fixed prefix, 429 past it', async () => {
    const hub = await startTestHub({
      trustedIssuers: [{ issuer: ISSUER }],
      subscriptionLimits: { maxTemplateWork: 2000 },
    })
    const open: Awaited<ReturnType<typeof subscribeSse>>[] = []
    try {
      // Patterns that fix distinct paths never meet the same topic: 300 of them fit the budget
      // that a handful of patterns sharing a prefix exhaust.
      for (let i = 0; i < 300; i++) {
        const pattern = encodeURIComponent(`https://example.com/users/${i}/:a/(\\d+)`)
        const sub = await subscribeSse(`${hub.hubUrl}?match_urlpattern=${pattern}`)
        assert.equal(sub.status, 200, `pattern ${i}`)
        open.push(sub)
      }
      // Each of these meets every topic under https://example.com/: their costs add up.
      const shared = (i: number) =>
        encodeURIComponent(`https://example.com/:a/(\\d+)/:b/(\\d+)/x${i}`)
      let refused: Response | undefined
      for (let i = 0; i < 100 && refused === undefined; i++) {
        const sub = await subscribeSse(`${hub.hubUrl}?match_urlpattern=${shared(i)}`)
        if (sub.status === 429) {
          sub.close()
          refused = await fetch(`${hub.hubUrl}?match_urlpattern=${shared(i)}`)
        } else open.push(sub)
      }
      assert.ok(refused !== undefined, 'the budget was never reached')
      assert.equal(refused.status, 429)
      assert.ok(Number(refused.headers.get('retry-after')) >= 1)
      // A pattern already held costs nothing more.
      const again = await subscribeSse(`${hub.hubUrl}?match_urlpattern=${shared(0)}`)
      assert.equal(again.status, 200)
      open.push(again)
      // And the patterns still route: a topic meets its own user's pattern only.
      await hub.publishOk([['topic', 'https://example.com/users/7/x/42']])
      const [event] = await (open[7] as (typeof open)[number]).waitForEvents(1)
      assert.ok(event !== undefined)
      assert.equal((open[8] as (typeof open)[number]).events.length, 0)
    } finally {
      for (const sub of open) sub.close()
      await hub.close()
    }
  })

  it('speaks only the protocols it is told to', async () => {
    const only1 = await startTestHub({ trustedIssuers: [{ issuer: ISSUER }], protocols: ['1.0'] })
    const only0 = await startTestHub({ trustedIssuers: [{ issuer: ISSUER }], protocols: ['0.x'] })
    try {
      assert.equal((await fetch(`${only1.hubUrl}?topic=a`, { method: 'HEAD' })).status, 400)
      assert.equal((await fetch(`${only1.hubUrl}?match=a`, { method: 'HEAD' })).status, 200)
      const legacy = await only1.token({ publish: ['*'] })
      assert.equal((await only1.publish([['topic', 'urn:a']], legacy)).status, 401)
      assert.equal((await fetch(`${only0.hubUrl}?match=a`, { method: 'HEAD' })).status, 400)
      assert.equal((await fetch(`${only0.hubUrl}?topic=a`, { method: 'HEAD' })).status, 200)
      const modern = await accessToken([grant(['publish'], { match: '*' })], { aud: only0.hubUrl })
      assert.equal((await only0.publish([['topic', 'urn:a']], modern)).status, 401)
      const metadata = `${only0.base}/.well-known/oauth-protected-resource/.well-known/mercure`
      assert.equal((await fetch(metadata)).status, 404)
    } finally {
      await only1.close()
      await only0.close()
    }
  })
})

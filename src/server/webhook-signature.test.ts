import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import { signWebhook, verifyWebhookSignature } from './webhook-signature.ts'

const SECRET = 'a-webhook-secret-of-at-least-32-characters'
const BODY = JSON.stringify({ id: 'urn:uuid:1', type: 'subscribe', selectors: [{ match: 'é' }] })
const NOW = 1_800_000_000

describe('signWebhook', () => {
  it('is t=<timestamp>,v1=<hex HMAC-SHA256 of "<timestamp>.<body>">', () => {
    const expected = createHmac('sha256', SECRET).update(`${NOW}.${BODY}`).digest('hex')
    assert.equal(signWebhook(SECRET, NOW, BODY), `t=${NOW},v1=${expected}`)
  })
})

describe('verifyWebhookSignature', () => {
  const header = signWebhook(SECRET, NOW, BODY)

  it('accepts the signature of the exact body with the secret', () => {
    assert.equal(verifyWebhookSignature(SECRET, header, BODY, { now: NOW }), true)
  })

  it('refuses a body changed by one byte, another secret, and a timestamp changed', () => {
    assert.equal(verifyWebhookSignature(SECRET, header, `${BODY} `, { now: NOW }), false)
    assert.equal(verifyWebhookSignature(`${SECRET}x`, header, BODY, { now: NOW }), false)
    const moved = header.replace(`t=${NOW}`, `t=${NOW + 1}`)
    assert.equal(verifyWebhookSignature(SECRET, moved, BODY, { now: NOW }), false)
  })

  it('accepts a timestamp at the 300 s tolerance either way and refuses one past it (replays)', () => {
    const at = (now: number) => verifyWebhookSignature(SECRET, header, BODY, { now })
    assert.equal(at(NOW + 300), true)
    assert.equal(at(NOW - 300), true)
    assert.equal(at(NOW + 301), false)
    assert.equal(at(NOW - 301), false)
    assert.equal(
      verifyWebhookSignature(SECRET, header, BODY, { now: NOW + 3600, toleranceSeconds: 3600 }),
      true,
    )
  })

  it('accepts any matching v1 entry, as while a secret is rotated', () => {
    const old = signWebhook('the-previous-secret-also-32-characters-long', NOW, BODY)
    const both = `${header},${old.slice(old.indexOf('v1='))}`
    assert.equal(verifyWebhookSignature(SECRET, both, BODY, { now: NOW }), true)
  })

  it('refuses missing and malformed headers', () => {
    for (const bad of [
      undefined,
      null,
      '',
      `t=${NOW}`,
      header.replace(/v1=[0-9a-f]+/, 'v1=zz'),
      header.replace(/v1=([0-9a-f]+)/, 'v1=$1ab'),
      header.replace(/v1=/, 'v0='),
      header.replace(/t=\d+/, 't=soon'),
    ]) {
      assert.equal(verifyWebhookSignature(SECRET, bad, BODY, { now: NOW }), false, String(bad))
    }
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createHubIdentity } from './hub-identity.ts'

const at = (origin: string | undefined, url = 'http://internal:3000/.well-known/mercure') => ({
  url: new URL(url),
  origin,
})

describe('createHubIdentity', () => {
  it('derives the hub URL and resource from the origin each request addressed, hosts alternating', () => {
    const identity = createHubIdentity(undefined)
    const seen = ['https://a.example', 'https://b.example', 'https://a.example', 'http://a.example']
    for (const origin of seen) {
      assert.equal(identity.hubUrl(at(origin)), `${origin}/.well-known/mercure`)
      assert.equal(identity.resource(at(origin)), `${origin}/.well-known/mercure`)
    }
    // Without an addressed origin, the request URL's.
    assert.equal(identity.hubUrl(at(undefined)), 'http://internal:3000/.well-known/mercure')
    assert.equal(identity.hubUrl(at('https://b.example')), 'https://b.example/.well-known/mercure')
  })

  it('answers with the pinned identifier whatever the request addressed', () => {
    const identity = createHubIdentity('https://hub.example/.well-known/mercure')
    assert.equal(
      identity.hubUrl(at('https://other.example')),
      'https://hub.example/.well-known/mercure',
    )
    assert.equal(
      identity.resource(at('https://other.example')),
      'https://hub.example/.well-known/mercure',
    )
    assert.equal(
      identity.metadataUrl(at('https://other.example')),
      'https://hub.example/.well-known/oauth-protected-resource/.well-known/mercure',
    )
  })

  it('resolves against the addressed hub URL when the pinned identifier is not a hub URL', () => {
    const identity = createHubIdentity('urn:example:hub')
    assert.equal(identity.resource(at('https://a.example')), 'urn:example:hub')
    assert.equal(identity.hubUrl(at('https://a.example')), 'https://a.example/.well-known/mercure')
  })
})

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createAdminSessions } from './admin-session.ts'

const TOKEN = 'admin-token-0123456789abcdef'

describe('createAdminSessions', () => {
  it('accepts the token, as is or as a Bearer header, and nothing else', () => {
    const sessions = createAdminSessions({ token: TOKEN })
    assert.equal(sessions.isToken(TOKEN), true)
    assert.equal(sessions.isToken(`${TOKEN}x`), false)
    assert.equal(sessions.isToken(TOKEN.slice(0, -1)), false)
    assert.equal(sessions.isToken(''), false)
    assert.equal(sessions.isBearer(`Bearer ${TOKEN}`), true)
    assert.equal(sessions.isBearer(`bearer  ${TOKEN} `), true)
    assert.equal(sessions.isBearer(`Basic ${TOKEN}`), false)
    assert.equal(sessions.isBearer(`Bearer ${TOKEN} extra`), false)
    assert.equal(sessions.isBearer(undefined), false)
  })

  it('accepts the sessions it issued until they expire, at the second', () => {
    let now = 1_000_000_000_000
    const sessions = createAdminSessions({ token: TOKEN, lifetimeSeconds: 60, now: () => now })
    const cookie = sessions.issue()
    assert.match(cookie, /^\d+\.[A-Za-z0-9_-]{43}$/)
    assert.equal(sessions.isSession(cookie), true)
    now += 59_999
    assert.equal(sessions.isSession(cookie), true)
    now += 1
    assert.equal(sessions.isSession(cookie), false, 'expired at exactly its lifetime')
  })

  it('refuses forged, edited and foreign cookies', () => {
    const sessions = createAdminSessions({ token: TOKEN })
    const cookie = sessions.issue()
    const [expiry, mac] = cookie.split('.') as [string, string]
    // A later expiry with the old MAC: the MAC covers the expiry.
    assert.equal(sessions.isSession(`${Number(expiry) + 1}.${mac}`), false)
    const flipped = `${mac.slice(0, -2)}${mac.at(-2) === 'A' ? 'B' : 'A'}${mac.at(-1)}`
    assert.equal(sessions.isSession(`${expiry}.${flipped}`), false)
    assert.equal(sessions.isSession(`${expiry}.${'A'.repeat(43)}`), false)
    assert.equal(sessions.isSession(`${expiry}.${mac}x`), false)
    assert.equal(sessions.isSession(TOKEN), false, 'the token itself is no session')
    assert.equal(sessions.isSession(null), false)
    assert.equal(sessions.isSession(''), false)
    const other = createAdminSessions({ token: `${TOKEN}-rotated` })
    assert.equal(other.isSession(cookie), false, 'a new token ends every session')
  })
})

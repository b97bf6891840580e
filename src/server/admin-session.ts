import { createHmac, timingSafeEqual } from 'node:crypto'
import { secretToken } from './secret-token.ts'

/** The cookie that carries a dashboard session, scoped to `/admin`. */
export const ADMIN_COOKIE = 'ssehub_admin'

/** Options for {@link createAdminSessions}. */
export interface AdminSessionsOptions {
  /** The admin token (at least 16 characters: see `admin-config.ts`). */
  token: string
  /** Seconds a session lasts after the login. Defaults to `28800` (8 hours). */
  lifetimeSeconds?: number
  /** The clock, in milliseconds since the epoch. Defaults to `Date.now`. */
  now?: () => number
}

/** Checks the admin token and makes and checks session cookies. */
export interface AdminSessions {
  /** Whether `candidate` is the admin token (in constant time). */
  isToken(candidate: string): boolean
  /** Whether an `Authorization` header is `Bearer <the admin token>`. */
  isBearer(header: string | undefined): boolean
  /** A new session's cookie value. */
  issue(): string
  /** Whether a cookie value is a session this token issued and that has not expired. */
  isSession(value: string | null): boolean
  /** Seconds a session lasts. */
  readonly lifetimeSeconds: number
}

/**
 * Creates the sessions of the admin dashboard. A session cookie is `<expiry>.<mac>`: the expiry
 * in seconds since the epoch and an HMAC-SHA256 of it under a key derived from the admin token.
 * Nothing is stored on the server, so sessions cost no memory however many logins there are,
 * every node of a cluster accepts the others' sessions, and changing the token ends them all.
 * A forged or edited cookie fails the MAC; an old one fails the expiry.
 */
export function createAdminSessions(options: AdminSessionsOptions): AdminSessions {
  const lifetimeSeconds = options.lifetimeSeconds ?? 8 * 60 * 60
  const now = options.now ?? Date.now
  const secret = secretToken(options.token)
  // A key of its own for the MAC: the cookie never carries anything that checks the token itself.
  const key = createHmac('sha256', options.token).update('ssehub admin session v1').digest()
  const mac = (expiry: string): Buffer =>
    createHmac('sha256', key).update(`session.${expiry}`).digest()

  return {
    lifetimeSeconds,
    isToken: secret.matches,
    isBearer: secret.matchesBearer,
    issue() {
      const expiry = `${Math.floor(now() / 1000) + lifetimeSeconds}`
      return `${expiry}.${mac(expiry).toString('base64url')}`
    },
    isSession(value) {
      const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value ?? '')
      if (match === null) return false
      const expiry = match[1] as string
      const given = Buffer.from(match[2] as string, 'base64url')
      if (given.length !== 32 || !timingSafeEqual(given, mac(expiry))) return false
      return Number(expiry) * 1000 > now()
    },
  }
}

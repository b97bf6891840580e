import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { EventStream } from '../index.ts'
import {
  type MercureMetrics,
  type NodeRequest,
  type NodeResponse,
  type OpenEventStreamOptions,
  readBody,
  readCookie,
  sendText,
} from '../node/index.ts'
import { adminLoginPage } from './admin-login-page.ts'
import { ADMIN_COOKIE, type AdminSessions, createAdminSessions } from './admin-session.ts'
import {
  type AdminSnapshot,
  type AdminStats,
  type AdminStatsOptions,
  type AdminSubscriber,
  createAdminStats,
} from './admin-stats.ts'
import { PAGE_SECURITY_HEADERS } from './security-headers.ts'

/** Options for {@link createAdminDashboard}. */
export interface AdminDashboardOptions {
  /** The admin token, or `null` to turn the dashboard off (every `/admin/` path is then `404`). */
  token: string | null
  /** The hub the statistics are about (read at each snapshot), or `null` before it exists. */
  hub: () => AdminSource | null
  /** Opens an SSE response sharing the server's heartbeat and bounds, tracked for the shutdown. */
  openStream: (req: NodeRequest, res: NodeResponse, extra?: OpenEventStreamOptions) => EventStream
  /** The folder holding `admin/` (the package's `web/`). */
  webRoot: string
  /** Whether the server speaks HTTPS (the session cookie is then `Secure`). */
  tls: boolean
  /** Whether the server is shutting down (no new streams). */
  closing: () => boolean
  /** Most statistics streams open at once; past it `503`. Defaults to `16`. */
  maxViewers?: number
  /** Seconds a session lasts. Defaults to `28800` (8 hours). */
  sessionSeconds?: number
}

/** What the statistics read of the hub: a `MercureHandler` is one. */
export interface AdminSource {
  readonly hub: { readonly subscribers: Iterable<AdminSubscriber> }
  readonly store: ReturnType<NonNullable<AdminStatsOptions['store']>>
}

/** The dashboard: its routes, and the hooks its statistics take from the hub. */
export interface AdminDashboard {
  /** Handles a path under `/admin`; resolves `false` for any other path. */
  handle(req: NodeRequest, res: NodeResponse, path: string): Promise<boolean>
  /** The hooks to give the hub (through `combineMetrics`), or `null` when the dashboard is off. */
  readonly metrics: MercureMetrics | null
  /** Stops the statistics' timer. */
  close(): void
}

/** The files of the dashboard, by name: a fixed list, so no path reaches any other file. */
const FILES: Readonly<Record<string, string>> = {
  '': 'text/html; charset=utf-8',
  'admin.js': 'text/javascript; charset=utf-8',
  'charts.js': 'text/javascript; charset=utf-8',
  'admin.css': 'text/css; charset=utf-8',
  'login.css': 'text/css; charset=utf-8',
}
/** Files anyone may fetch: the login form's stylesheet, which holds nothing of the hub's. */
const PUBLIC_FILES = new Set(['login.css'])

/** Failed logins per window before the form answers `429` until the window ends. */
const MAX_FAILURES = 20
const FAILURE_WINDOW_MS = 10_000
/** Largest login form body, in bytes: a token and a field name. */
const MAX_LOGIN_BYTES = 4096

// `same-origin`, not the site's `no-referrer`: under `no-referrer` a browser sends `Origin: null`
// with a form post, and the forms' check below could not tell this host's pages from others'.
const PRIVATE = {
  ...PAGE_SECURITY_HEADERS,
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
}

/**
 * Handles every path under `/admin`: the dashboard page and its files, its statistics stream
 * (`/admin/stats`, one `stats` event a second) and the login and logout forms. Without a token
 * it answers `404` for all of them, so the page is not served from the web folder either.
 * Resolves `false` for any other path.
 *
 * Who may look: a request with `Authorization: Bearer <token>`, or with the session cookie the
 * login form sets (HttpOnly, so a script injected into a page cannot read it; SameSite=Strict and
 * an Origin check on the forms, against cross-site request forgery of the login and logout).
 * The token never travels in a URL, where access logs and the Referer header would keep it.
 */
export function createAdminDashboard(options: AdminDashboardOptions): AdminDashboard {
  const { token } = options
  // The statistics observe the hub only when the dashboard is on.
  const stats: AdminStats | null =
    token === null
      ? null
      : createAdminStats({
          subscribers: () => options.hub()?.hub.subscribers ?? [],
          store: () => options.hub()?.store ?? null,
        })
  const sessions: AdminSessions | null =
    token === null
      ? null
      : createAdminSessions({
          token,
          ...(options.sessionSeconds === undefined
            ? {}
            : { lifetimeSeconds: options.sessionSeconds }),
        })
  const maxViewers = options.maxViewers ?? 16
  let viewers = 0
  let failures = 0
  let windowStart = 0

  const authorized = (req: NodeRequest, sessions: AdminSessions): boolean =>
    sessions.isBearer(req.headers.authorization) ||
    sessions.isSession(readCookie(req.headers.cookie, ADMIN_COOKIE))

  const refuse = (res: NodeResponse, page: boolean, message: string | null = null): void => {
    const challenge = { 'www-authenticate': 'Bearer realm="ssehub admin"' }
    if (!page) {
      sendText(res, 401, 'The dashboard needs its admin token: sign in at /admin/.\n', challenge)
      return
    }
    const body = adminLoginPage(message)
    res.writeHead(401, {
      ...PRIVATE,
      ...challenge,
      'content-type': 'text/html; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    })
    res.end(body)
  }

  const login = async (req: NodeRequest, res: NodeResponse, sessions: AdminSessions) => {
    const secure = sameOrigin(req)
    if (secure === null) {
      // Login CSRF: a foreign page must not sign a browser in, nor out, with a form of its own.
      sendText(res, 403, 'Cross-site form refused: sign in from /admin/.\n')
      return
    }
    const now = Date.now()
    if (now - windowStart >= FAILURE_WINDOW_MS) {
      windowStart = now
      failures = 0
    }
    // Online guessing: with a 16-character random token there is nothing to guess, but a weak
    // one chosen by hand is slowed to 2 guesses a second, whoever sends them.
    if (failures >= MAX_FAILURES) {
      sendText(res, 429, 'Too many failed sign-ins; try again in a few seconds.\n', {
        'retry-after': `${Math.ceil((windowStart + FAILURE_WINDOW_MS - now) / 1000)}`,
      })
      return
    }
    let body: Buffer
    try {
      body = await readBody(req, MAX_LOGIN_BYTES, { timeoutMs: 10_000 })
    } catch {
      if (!res.headersSent) sendText(res, 400, 'The sign-in form could not be read.\n')
      return
    }
    const given = new URLSearchParams(body.toString('utf8')).get('token') ?? ''
    if (!sessions.isToken(given)) {
      failures++
      refuse(res, true, 'That is not the admin token.')
      return
    }
    const cookie = `${ADMIN_COOKIE}=${sessions.issue()}; Path=/admin; Max-Age=${sessions.lifetimeSeconds}; HttpOnly; SameSite=Strict`
    res.writeHead(303, {
      'set-cookie': options.tls || secure ? `${cookie}; Secure` : cookie,
      location: '/admin/',
      'cache-control': 'no-store',
    })
    res.end()
  }

  const logout = (req: NodeRequest, res: NodeResponse): void => {
    if (sameOrigin(req) === null) {
      sendText(res, 403, 'Cross-site form refused.\n')
      return
    }
    res.writeHead(303, {
      'set-cookie': `${ADMIN_COOKIE}=; Path=/admin; Max-Age=0; HttpOnly; SameSite=Strict`,
      location: '/admin/',
      'cache-control': 'no-store',
    })
    res.end()
  }

  const streamStats = (req: NodeRequest, res: NodeResponse, stats: AdminStats): void => {
    if (options.closing()) {
      sendText(res, 503, 'The server is shutting down; reconnect shortly.\n', {
        'retry-after': '1',
      })
      return
    }
    // Each viewer holds a stream and keeps the collector running: a bound, as for every stream.
    if (viewers >= maxViewers) {
      sendText(res, 503, `The dashboard has ${maxViewers} viewers already.\n`, {
        'retry-after': '5',
      })
      return
    }
    viewers++
    const stream = options.openStream(req, res, { headers: { 'cache-control': 'no-store' } })
    const send = (snapshot: AdminSnapshot): void => {
      stream.send({ event: 'stats', data: JSON.stringify(snapshot) })
    }
    const unwatch = stats.watch(send)
    stream.onClose(() => {
      viewers--
      unwatch()
    })
    if (stats.latest !== null) send(stats.latest)
  }

  const serveFile = async (res: NodeResponse, name: string, head: boolean): Promise<void> => {
    const type = FILES[name] as string
    let body: Buffer
    try {
      body = await readFile(join(options.webRoot, 'admin', name === '' ? 'index.html' : name))
    } catch {
      sendText(res, 404, 'The dashboard files are missing from the web folder.\n')
      return
    }
    res.writeHead(200, { ...PRIVATE, 'content-type': type, 'content-length': body.byteLength })
    if (head) res.end()
    else res.end(body)
  }

  const handle = async (req: NodeRequest, res: NodeResponse, path: string): Promise<boolean> => {
    if (path !== '/admin' && !path.startsWith('/admin/')) return false
    if (sessions === null || stats === null) {
      sendText(res, 404, `Nothing here: ${path}. Start at /.\n`)
      return true
    }
    const method = req.method ?? 'GET'
    if (path === '/admin') {
      res.writeHead(308, { location: '/admin/' })
      res.end()
      return true
    }
    if (path === '/admin/login' || path === '/admin/logout') {
      if (method !== 'POST') {
        sendText(res, 405, `Use POST on ${path}.\n`, { allow: 'POST' })
        return true
      }
      if (path === '/admin/login') await login(req, res, sessions)
      else logout(req, res)
      return true
    }
    const isStream = path === '/admin/stats'
    const allowed = isStream ? ['GET'] : ['GET', 'HEAD']
    if (!allowed.includes(method)) {
      sendText(res, 405, `${method} is not allowed on ${path}.\n`, { allow: allowed.join(', ') })
      return true
    }
    const name = path.slice('/admin/'.length)
    if (!isStream && FILES[name] === undefined) {
      sendText(res, 404, `Nothing here: ${path}.\n`)
      return true
    }
    if (!PUBLIC_FILES.has(name) && !authorized(req, sessions)) {
      refuse(res, name === '')
      return true
    }
    if (isStream) streamStats(req, res, stats)
    else await serveFile(res, name, method === 'HEAD')
    return true
  }

  return {
    handle,
    metrics: stats?.metrics ?? null,
    close: () => stats?.close(),
  }
}

/**
 * Whether a form post comes from a page of this host: `true` when that page was on HTTPS (even
 * behind a proxy that ends TLS), `false` on HTTP or when only `Sec-Fetch-Site` vouches for it,
 * `null` when it comes from elsewhere or does not say (browsers send `Origin` with every POST;
 * `Sec-Fetch-Site`, which no script can set, when a policy made that `Origin` `null`).
 */
function sameOrigin(req: NodeRequest): boolean | null {
  const origin = req.headers.origin
  const host = req.headers.host ?? req.headers[':authority']
  if (origin === undefined || origin === 'null') {
    return req.headers['sec-fetch-site'] === 'same-origin' ? false : null
  }
  if (typeof origin !== 'string' || typeof host !== 'string') return null
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return null
  }
  if (url.host !== host.toLowerCase()) return null
  return url.protocol === 'https:'
}

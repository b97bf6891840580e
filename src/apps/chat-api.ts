import { isIP } from 'node:net'
import type { Hub } from '../hub/index.ts'
import {
  BodyTooLargeError,
  DEFAULT_COOKIE_NAME,
  discardRefusedBody,
  type MercureClaims,
  mintToken,
  type NodeRequest,
  type NodeResponse,
  readBody,
  readCookie,
  sendText,
} from '../node/index.ts'
import { checkNickname, checkRoom, presenceSelector, roomTopic } from './chat-rooms.ts'

/** Options for {@link createChatApi}. */
export interface ChatApiOptions {
  hub: Hub
  /** Signs the tokens the chat issues: the hub's subscriber key (a secret or a PEM private key). */
  signingKey: string
  /** Verifies them again when a member posts: the hub's (`MercureHandler.verifySubscriberToken`). */
  verify: (token: string) => Promise<MercureClaims>
  /** The hub's authorization cookie name. Defaults to `'mercureAuthorization'`. */
  cookieName?: string
  /** Lifetime of a membership, in seconds. Defaults to `3600`. */
  ttlSeconds?: number
  /** Longest message, in characters. Defaults to `2000`. */
  maxMessageLength?: number
  /**
   * Host names the hub is reached by, besides `localhost` (and `*.localhost`) and IP addresses,
   * which are always accepted. A request with any other `Host` is refused. Defaults to none.
   */
  allowedHosts?: readonly string[]
}

const API = '/apps/chat/api'
const SESSION_COOKIE = 'ssehub_chat'

/**
 * The chat's own endpoints. The browser never holds a publisher key: it posts to the app, which
 * checks the member's session and publishes through the hub itself. Members receive a room's
 * messages (published private) with a short-lived token the app issues for the rooms they joined,
 * set as the hub's HttpOnly cookie.
 *
 * - `POST /apps/chat/api/join` `{ nickname, room }` → sets the cookies, answers the room's topics.
 * - `POST /apps/chat/api/messages` `{ room, text }` → publishes, answers `{ id }`.
 * - `POST /apps/chat/api/leave` → clears the cookies.
 */
export function createChatApi(options: ChatApiOptions) {
  const { hub, verify } = options
  const cookieName = options.cookieName ?? DEFAULT_COOKIE_NAME
  const ttl = options.ttlSeconds ?? 3600
  const maxLength = options.maxMessageLength ?? 2000
  const allowedHosts = new Set((options.allowedHosts ?? []).map((host) => host.toLowerCase()))

  const json = (
    res: NodeResponse,
    status: number,
    body: unknown,
    headers: Record<string, string | string[]> = {},
  ) => {
    const text = Buffer.from(JSON.stringify(body))
    res.writeHead(status, {
      ...headers,
      'content-type': 'application/json',
      'content-length': text.byteLength,
      'cache-control': 'no-store',
    })
    res.end(text)
  }

  /** The rooms and nickname of the caller's session, or `null` without a valid one. */
  const session = async (
    req: NodeRequest,
  ): Promise<{ nickname: string; rooms: string[] } | null> => {
    const token = readCookie(req.headers.cookie, SESSION_COOKIE)
    if (token === null) return null
    try {
      const claims = await verify(token)
      const payload = claims.payload as { nickname?: unknown; rooms?: unknown } | undefined
      if (typeof payload?.nickname !== 'string' || !Array.isArray(payload.rooms)) return null
      return {
        nickname: payload.nickname,
        rooms: payload.rooms.filter((r): r is string => typeof r === 'string'),
      }
    } catch {
      return null
    }
  }

  const cookies = (token: string, secure: boolean, maxAge: number): string[] => {
    const flags = `HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`
    return [
      `${cookieName}=${token}; Path=/.well-known/mercure; ${flags}`,
      `${SESSION_COOKIE}=${token}; Path=${API}; ${flags}`,
    ]
  }

  const body = async (req: NodeRequest): Promise<Record<string, unknown> | string> => {
    if (!(req.headers['content-type'] ?? '').startsWith('application/json'))
      return 'Send JSON (Content-Type: application/json).'
    try {
      const parsed: unknown = JSON.parse((await readBody(req, 16_384)).toString('utf8'))
      return typeof parsed === 'object' && parsed !== null
        ? (parsed as Record<string, unknown>)
        : 'Send a JSON object.'
    } catch (error) {
      if (error instanceof BodyTooLargeError) throw error
      return 'The body is not valid JSON.'
    }
  }

  return async (req: NodeRequest, res: NodeResponse, url: URL): Promise<boolean> => {
    if (!url.pathname.startsWith(`${API}/`)) return false
    if (req.method !== 'POST') {
      sendText(res, 405, 'Use POST.\n', { allow: 'POST' })
      return true
    }
    const host = req.headers.host ?? req.headers[':authority']
    // DNS rebinding: a page of evil.example, whose name the attacker then points at this hub (a
    // developer's machine), is same-origin with it for the browser: Origin and Host both say
    // evil.example. Only names that are this hub's own are answered; an IP address or localhost
    // cannot be rebound.
    if (!isOwnHost(host, allowedHosts)) {
      sendText(
        res,
        403,
        'The chat API answers only requests addressed to this hub by localhost, an IP address or a configured host name (DNS rebinding protection).\n',
      )
      return true
    }
    // CSRF: these endpoints act on the session cookie, so only this origin's pages may call them.
    if (!sameOrigin(req.headers.origin, host)) {
      sendText(res, 403, 'Cross-origin requests to the chat API are refused (CSRF protection).\n')
      return true
    }
    const secure = (req.socket as { encrypted?: boolean }).encrypted === true
    try {
      if (url.pathname === `${API}/leave`) {
        json(res, 200, { left: true }, { 'set-cookie': cookies('', secure, 0) })
        return true
      }
      const input = await body(req)
      if (typeof input === 'string') {
        sendText(res, 400, `${input}\n`)
        return true
      }
      if (url.pathname === `${API}/join`) {
        const problem = checkNickname(input['nickname']) ?? checkRoom(input['room'])
        if (problem !== null) {
          sendText(res, 400, `${problem}\n`)
          return true
        }
        const nickname = (input['nickname'] as string).trim()
        const room = input['room'] as string
        const current = await session(req)
        // A member keeps the rooms they joined under the same nickname; a new nickname starts over.
        const rooms =
          current?.nickname === nickname
            ? [...new Set([...current.rooms, room])].slice(-20)
            : [room]
        const token = await mintToken({
          key: options.signingKey,
          subscribe: rooms.flatMap((r) => [roomTopic(r), presenceSelector(r)]),
          payload: { nickname, rooms },
          expiresIn: ttl,
        })
        json(
          res,
          200,
          {
            nickname,
            room,
            topic: roomTopic(room),
            presence: presenceSelector(room),
            rooms,
            expiresIn: ttl,
          },
          { 'set-cookie': cookies(token, secure, ttl) },
        )
        return true
      }
      if (url.pathname === `${API}/messages`) {
        const member = await session(req)
        if (member === null) {
          sendText(res, 401, 'Join a room first: your session is missing or expired.\n')
          return true
        }
        const room = input['room']
        const text = input['text']
        if (typeof room !== 'string' || !member.rooms.includes(room)) {
          sendText(res, 403, 'You have not joined this room.\n')
          return true
        }
        if (typeof text !== 'string' || text.trim() === '' || text.length > maxLength) {
          sendText(res, 400, `A message has 1 to ${maxLength} characters.\n`)
          return true
        }
        const stored = await hub.publish({
          id: `urn:uuid:${crypto.randomUUID()}`,
          topics: [roomTopic(room)],
          data: JSON.stringify({ nickname: member.nickname, text, at: new Date().toISOString() }),
          private: true,
          type: undefined,
          retry: undefined,
        })
        json(res, 200, { id: stored.id })
        return true
      }
      sendText(res, 404, 'No such chat endpoint.\n')
      return true
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        sendText(res, 413, `${error.message}\n`)
        discardRefusedBody(req, res)
        return true
      }
      throw error
    }
  }
}

/** Whether a `Host` header names this hub: localhost, an IP address, or an allowed name. */
function isOwnHost(host: string | string[] | undefined, allowed: ReadonlySet<string>): boolean {
  // Anything but host[:port] (userinfo, a path) would make the URL parser read another host.
  if (typeof host !== 'string' || /[/\\@?#\s]/.test(host)) return false
  let hostname: string
  try {
    hostname = new URL(`http://${host}`).hostname
  } catch {
    return false
  }
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true
  if (isIP(hostname.replace(/^\[(.*)\]$/, '$1')) !== 0) return true
  return allowed.has(hostname)
}

function sameOrigin(origin: string | undefined, host: string | string[] | undefined): boolean {
  if (origin === undefined || typeof host !== 'string') return false
  try {
    return new URL(origin).host === host
  } catch {
    return false
  }
}

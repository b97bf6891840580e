import { isIP } from 'node:net'
import type { Hub } from '../hub/index.ts'
import {
  BodyTooLargeError,
  DEFAULT_ACCESS_TOKEN_COOKIE_NAME,
  DEFAULT_COOKIE_NAME,
  discardRefusedBody,
  HUB_PATH,
  type MercureClaims,
  mintAccessToken,
  mintToken,
  type NodeRequest,
  type NodeResponse,
  readBody,
  readCookie,
  sendText,
} from '../node/index.ts'
import {
  checkNickname,
  checkRoom,
  presenceListPath,
  presencePattern,
  presenceSelector,
  roomTopic,
} from './chat-rooms.ts'

/** The Mercure protocol the chat's tokens and page speak. */
export type ChatProtocol = '1.0' | '0.x'

/** Options for {@link createChatApi}. */
export interface ChatApiOptions {
  hub: Hub
  /** Signs the tokens the chat issues: the hub's subscriber key (a secret or a PEM private key). */
  signingKey: string
  /**
   * Verifies the chat's session token when a member posts: the hub's 0.x subscriber verifier
   * (`MercureHandler.verifySubscriberToken`). The session token is a 0.x token holding the
   * member's nickname and rooms, whatever `protocol` says, sent only to the chat's API.
   */
  verify: (token: string) => Promise<MercureClaims>
  /**
   * The protocol of the hub token the chat sets and of the page's subscription: `'1.0'` (an RFC
   * 9068 access token; the page subscribes with `match`/`match_urlpattern`) or `'0.x'` (a token
   * with the `mercure` claim; the page subscribes with `topic`). Defaults to `'1.0'`.
   */
  protocol?: ChatProtocol
  /**
   * Mercure 1.0: the `iss` of the access tokens, an issuer the hub trusts with `signingKey`.
   * Defaults to `'ssehub'`, which the hub trusts with its own keys.
   */
  issuer?: string
  /**
   * Mercure 1.0: the hub's resource identifier, the tokens' `aud`. Defaults to the one the hub
   * derives from the request the page came through: `<scheme>://<host>/.well-known/mercure`.
   */
  resourceIdentifier?: string | undefined
  /**
   * The hub's authorization cookie name. Defaults to `'__Secure-mercure_access_token'` for a 1.0
   * token over HTTPS, and `'mercureAuthorization'` otherwise: browsers refuse a `__Secure-`
   * cookie without `Secure`, and the hub reads both names unless it is given one.
   */
  cookieName?: string | undefined
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
 * set as the hub's HttpOnly cookie: by default a Mercure 1.0 access token granting `subscribe` on
 * each room's topic and on its subscription events (presence), with `{ nickname, rooms }` as its
 * payload.
 *
 * - `POST /apps/chat/api/join` `{ nickname, room }` → sets the cookies, answers the protocol and
 *   what to subscribe to (`match` and `matchUrlPattern` in 1.0, `topics` in 0.x).
 * - `POST /apps/chat/api/messages` `{ room, text }` → publishes, answers `{ id }`.
 * - `POST /apps/chat/api/leave` → clears the cookies.
 */
export function createChatApi(options: ChatApiOptions) {
  const { hub, verify } = options
  const protocol = options.protocol ?? '1.0'
  const issuer = options.issuer ?? 'ssehub'
  const cookieNameFor = (secure: boolean): string =>
    options.cookieName ??
    (protocol === '1.0' && secure ? DEFAULT_ACCESS_TOKEN_COOKIE_NAME : DEFAULT_COOKIE_NAME)
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

  const cookies = (
    hubToken: string,
    sessionToken: string,
    secure: boolean,
    maxAge: number,
  ): string[] => {
    const flags = `HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`
    return [
      `${cookieNameFor(secure)}=${hubToken}; Path=${HUB_PATH}; ${flags}`,
      `${SESSION_COOKIE}=${sessionToken}; Path=${API}; ${flags}`,
    ]
  }

  /**
   * The hub token for `rooms` and what the page subscribes to for `room`, in the chat's protocol,
   * and the session token holding the membership for the chat's own API (a 0.x token, as `verify`
   * checks it).
   */
  const membership = async (
    nickname: string,
    room: string,
    rooms: string[],
    audience: string,
  ): Promise<{ hubToken: string; sessionToken: string; subscribe: Record<string, string[]> }> => {
    const payload = { nickname, rooms }
    if (protocol === '0.x') {
      const token = await mintToken({
        key: options.signingKey,
        subscribe: rooms.flatMap((r) => [roomTopic(r), presenceSelector(r)]),
        payload,
        expiresIn: ttl,
      })
      const topics = [roomTopic(room), presenceSelector(room)]
      return { hubToken: token, sessionToken: token, subscribe: { topics } }
    }
    const hubToken = await mintAccessToken({
      key: options.signingKey,
      issuer,
      audience,
      // Each room's messages, its subscription events (who is online), and its subscriptions API
      // collection (who was there before the page joined). One detail: its payload goes with
      // every subscription these match.
      subscribe: rooms.flatMap((r) => [
        { match: roomTopic(r) },
        { match: presencePattern(r), match_type: 'urlpattern' as const },
        { match: presenceListPath(r) },
      ]),
      payload,
      expiresIn: ttl,
    })
    const sessionToken = await mintToken({ key: options.signingKey, payload, expiresIn: ttl })
    return {
      hubToken,
      sessionToken,
      subscribe: { match: [roomTopic(room)], matchUrlPattern: [presencePattern(room)] },
    }
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
        json(res, 200, { left: true }, { 'set-cookie': cookies('', '', secure, 0) })
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
        // [spec] draft-08: `aud` must hold the hub's resource identifier; derived, it is the URL
        // this request came through (its host checked above), as the hub derives it.
        const audience =
          options.resourceIdentifier ??
          `${new URL(`${secure ? 'https' : 'http'}://${host as string}`).origin}${HUB_PATH}`
        const member = await membership(nickname, room, rooms, audience)
        json(
          res,
          200,
          {
            nickname,
            room,
            protocol,
            topic: roomTopic(room),
            subscribe: member.subscribe,
            // Where the page lists who follows the room, in the subscriptions API of the protocol.
            presenceList:
              protocol === '1.0'
                ? presenceListPath(room)
                : `${HUB_PATH}/subscriptions/${encodeURIComponent(roomTopic(room))}`,
            rooms,
            expiresIn: ttl,
          },
          { 'set-cookie': cookies(member.hubToken, member.sessionToken, secure, ttl) },
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

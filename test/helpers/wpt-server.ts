// A loopback stand-in for the web-platform-tests eventsource/resources/*.py handlers (and the
// common redirect handler), rewritten in our own words from what each one sends
// (../shared/docs/sse-spec.md §4.3). Query values are percent-decoded to raw bytes, as the
// Python handlers see them, so vectors with a BOM or invalid UTF-8 go on the wire byte-exact.
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the fixture received. */
export interface RecordedRequest {
  /** The path, without the query. */
  readonly path: string
  readonly params: Map<string, Buffer>
  readonly headers: IncomingHttpHeaders
  /** The raw bytes of `Last-Event-ID`, or `null` when the request had none. */
  readonly lastEventId: Buffer | null
  /** `performance.now()` when it arrived. */
  readonly at: number
}

/** The fixture server made by {@link startWptServer}. */
export interface WptServer {
  /** `http://127.0.0.1:<port>` */
  readonly base: string
  /** `base` + `path`, with `params` as the query (values percent-encoded as UTF-8). */
  url(path: string, params?: Record<string, string>): string
  /** Every request so far, oldest first. */
  readonly requests: readonly RecordedRequest[]
  /** The requests so far for `path`. */
  hits(path: string): RecordedRequest[]
  /** Resolves once `count` requests for `path` arrived; rejects after `timeoutMs`. */
  waitForHits(path: string, count: number, timeoutMs?: number): Promise<RecordedRequest[]>
  close(): Promise<void>
}

const EVENT_STREAM = 'text/event-stream'

/** Percent-decodes a query component to bytes (`+` is a space, as Python's parse_qs reads it). */
function decodeComponent(text: string): Buffer {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string
    if (c === '%' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(Number.parseInt(text.slice(i + 1, i + 3), 16))
      i += 2
    } else if (c === '+') {
      bytes.push(0x20)
    } else {
      bytes.push(...Buffer.from(c, 'utf8'))
    }
  }
  return Buffer.from(bytes)
}

function parseQuery(query: string): Map<string, Buffer> {
  const params = new Map<string, Buffer>()
  for (const pair of query.split('&')) {
    if (pair === '') continue
    const equals = pair.indexOf('=')
    const name = decodeComponent(equals === -1 ? pair : pair.slice(0, equals)).toString('utf8')
    // The first value wins, as WPT's `request.GET.first()`.
    if (!params.has(name))
      params.set(name, decodeComponent(equals === -1 ? '' : pair.slice(equals + 1)))
  }
  return params
}

function send(
  res: ServerResponse,
  status: number,
  body: string | Buffer,
  type = EVENT_STREAM,
): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-cache' })
  res.end(body)
}

/** Starts the fixture on a loopback port. */
export async function startWptServer(): Promise<WptServer> {
  const requests: RecordedRequest[] = []
  const waiters = new Set<() => void>()
  const visits = new Map<string, number>()
  /** How many times `key` was visited before, counting this visit. */
  const visit = (key: string): number => {
    const count = (visits.get(key) ?? 0) + 1
    visits.set(key, count)
    return count
  }
  const timers = new Set<ReturnType<typeof setInterval>>()

  const server = createServer((req, res) => {
    const target = req.url ?? '/'
    const mark = target.indexOf('?')
    const path = mark === -1 ? target : target.slice(0, mark)
    const params = parseQuery(mark === -1 ? '' : target.slice(mark + 1))
    const rawId = req.headers['last-event-id']
    requests.push({
      path,
      params,
      headers: req.headers,
      // Node reads header bytes as latin1, one char per byte: that undoes it.
      lastEventId: typeof rawId === 'string' ? Buffer.from(rawId, 'latin1') : null,
      at: performance.now(),
    })
    for (const waiter of waiters) waiter()
    const text = (name: string): string | undefined => params.get(name)?.toString('utf8')

    switch (path) {
      // message.py: the `message` bytes, then "\n\n" unless newline=none, then "\n".
      case '/message': {
        const body = Buffer.concat([
          params.get('message') ?? Buffer.from('data: data'),
          Buffer.from(text('newline') === 'none' ? '\n' : '\n\n\n'),
        ])
        const respond = (): void => send(res, 200, body, text('mime') ?? EVENT_STREAM)
        const sleep = Number(text('sleep') ?? 0)
        if (sleep > 0) setTimeout(respond, sleep)
        else respond()
        return
      }
      // message2.py: one pass of its loop body.
      case '/message2':
        send(
          res,
          200,
          'data:msg\ndata: msg\n\n:\nfalsefield:msg\n\nfalsefield:msg\nData:data\n\ndata\n\ndata:end\n\n',
        )
        return
      // last-event-id2.py: how `id` persists and resets.
      case '/last-event-id2': {
        const bodies: Record<string, string> = {
          '1': 'id: 1\ndata: 1\n\ndata:2\n\n',
          '2': 'id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n',
          '3': 'id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n',
        }
        send(res, 200, bodies[text('type') ?? '1'] ?? '')
        return
      }
      // status-error.py: the status asked for; 204 and 205 have no body.
      case '/status-error': {
        const status = Number(text('status') ?? 404)
        send(res, status, status === 204 || status === 205 ? '' : 'data: data\n\n')
        return
      }
      // status-reconnect.py: hit 1 sets a 2 ms retry (and says "ok" with ok_first), hit 2 answers
      // with the status asked for.
      case '/status-reconnect': {
        const status = Number(text('status') ?? 204)
        if (visit(`status-reconnect:${text('id') ?? status}`) === 1) {
          send(res, 200, params.has('ok_first') ? 'retry: 2\ndata: ok\n\n' : 'retry: 2\n')
        } else {
          send(res, status, status === 204 ? '' : 'data: data\n\n')
        }
        return
      }
      // reconnect-fail.py: opened, reconnected, then 204 for good.
      case '/reconnect-fail': {
        const count = visit(`reconnect-fail:${text('id') ?? ''}`)
        if (count === 1) send(res, 200, 'retry: 2\ndata: opened\n\n')
        else if (count === 2) send(res, 200, 'data: reconnected\n\n')
        else send(res, 204, '')
        return
      }
      // last-event-id.py: an id (U+2026 by default) and a 200 ms retry; on reconnection, the
      // Last-Event-ID bytes it got, echoed as data.
      case '/last-event-id': {
        const received = requests.at(-1)?.lastEventId ?? null
        if (received === null) {
          const id = params.get('idvalue') ?? Buffer.from('…')
          send(
            res,
            200,
            Buffer.concat([Buffer.from('id: '), id, Buffer.from('\nretry: 200\ndata: hello\n\n')]),
          )
        } else {
          send(res, 200, Buffer.concat([Buffer.from('data: '), received, Buffer.from('\n\n')]))
        }
        return
      }
      // common/handlers/redirect.py
      case '/redirect':
        res.writeHead(Number(text('status') ?? 302), { location: text('location') ?? '/message' })
        res.end()
        return
      // accept.event_stream, cache-control.event_stream: a request header, echoed as data.
      case '/echo': {
        const value = req.headers[text('header') ?? 'accept']
        const echoed = Array.isArray(value) ? value.join(', ') : (value ?? '<none>')
        // The header's own bytes (Node hands them over as latin1), so UTF-8 comes back intact.
        send(res, 200, Buffer.from(`data: ${echoed}\n\n`, 'latin1'))
        return
      }
      // An open stream that sends nothing, or a comment every `comment` ms, until the client goes.
      case '/silent': {
        res.writeHead(200, { 'content-type': EVENT_STREAM })
        res.flushHeaders()
        const every = Number(text('comment') ?? 0)
        if (every > 0) {
          const timer = setInterval(() => res.write(':\n'), every)
          timers.add(timer)
          res.on('close', () => {
            clearInterval(timer)
            timers.delete(timer)
          })
        }
        return
      }
      // One event, then the connection is cut without a proper end: a network error.
      case '/drop':
        res.writeHead(200, { 'content-type': EVENT_STREAM })
        res.write(`data: ${text('data') ?? 'before the drop'}\n\n`, () => {
          setTimeout(() => res.socket?.destroy(), 10)
        })
        return
      default:
        send(res, 404, 'not found\n', 'text/plain')
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const hits = (path: string): RecordedRequest[] => requests.filter((r) => r.path === path)

  return {
    base,
    requests,
    hits,
    url(path, params = {}) {
      const query = new URLSearchParams(params).toString()
      return `${base}${path}${query === '' ? '' : `?${query}`}`
    },
    waitForHits(path, count, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = hits(path)
          if (found.length < count) return
          waiters.delete(check)
          clearTimeout(timer)
          resolve(found)
        }
        const timer = setTimeout(() => {
          waiters.delete(check)
          reject(
            new Error(
              `timed out after ${timeoutMs} ms with ${hits(path).length} of ${count} hits on ${path}`,
            ),
          )
        }, timeoutMs)
        waiters.add(check)
        check()
      })
    },
    async close() {
      for (const timer of timers) clearInterval(timer)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

// The raw node:http ceiling: the least a Node SSE fan-out server can do, to show what our
// runtime allows. GET /sub?topic=a[&topic=b] subscribes (`topic=*` to everything), POST
// /pub?topic=a publishes the body as one event, framed once into a Buffer, queued for every
// subscriber and written once per turn (see `flush`); a ring of the last `history` frames
// answers Last-Event-ID. No auth, no topic templates, no backpressure handling (write() return
// values are ignored, so a slow client makes it buffer without bound): it is a ceiling, not a
// product.
//
//   node --import tsx bench/peers/raw-node.ts <port> [history]   (the benches start it themselves)
//
// GET /stats answers process.memoryUsage() as JSON.

import { type ChildProcess, spawn } from 'node:child_process'
import { createServer, type ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import {
  freePort,
  httpGet,
  type PeerOptions,
  type RunningPeer,
  stopPid,
  waitForHttp,
} from './peer.ts'

const HOST = '127.0.0.1'
const FILE = fileURLToPath(import.meta.url)
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Starts the raw peer in its own process and resolves once it answers. */
export async function startRawNode(options: PeerOptions = {}): Promise<RunningPeer> {
  const port = await freePort()
  const history = Math.max(1000, options.history ?? 1000)
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', FILE, String(port), String(history)],
    { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] },
  )
  const pid = child.pid as number
  let exited = false
  child.once('exit', () => {
    exited = true
  })
  try {
    await waitForHttp(HOST, port, '/stats')
  } catch (error) {
    child.kill('SIGKILL')
    throw error
  }
  return {
    name: 'raw-node',
    host: HOST,
    port,
    publishPort: port,
    pids: () => (exited ? [] : [pid]),
    subscribePath: (topic) => `/sub?topic=${topic}`,
    wildcardPath: () => '/sub?topic=*',
    publishTemplate: () => ({ path: '/pub?topic={topic}', headers: {}, body: '{payload}' }),
    resumeHeaders: (id) => ({ 'Last-Event-ID': id }),
    publishedId: (body) => body.trim(),
    async heapUsedBytes() {
      const { body } = await httpGet(HOST, port, '/stats')
      return (JSON.parse(body) as NodeJS.MemoryUsage).heapUsed
    },
    stop: () => stopPid(pid, 'SIGTERM', () => exited),
  }
}

/** The server itself, run in the child process. */
function serve(port: number, history: number): void {
  const exact = new Map<string, Set<ServerResponse>>()
  const everything = new Set<ServerResponse>()
  // The ring of recent frames, with their ids and topics, for Last-Event-ID.
  const ring: Array<{ id: number; topic: string; frame: Buffer } | undefined> = new Array(history)
  let lastId = 0
  const opening = Buffer.from(':ok\n\n')

  // The same techniques as the hub's core, done the least costly way: each subscriber queues the
  // frames published for it in a turn of the event loop; queues are flushed 128 subscribers per
  // turn (so publishes are read between slices), each as one socket write of the frames joined
  // and framed as one HTTP chunk, shared by consecutive subscribers holding the very same frames.
  const queues = new Map<ServerResponse, Buffer[]>()
  let dirty: ServerResponse[] = []
  let dirtyHead = 0
  let scheduled = false
  let lastFrames: Buffer[] = []
  let lastChunk = Buffer.alloc(0)
  const queueFrame = (sub: ServerResponse, frame: Buffer): void => {
    const queue = queues.get(sub)
    if (queue !== undefined) {
      queue.push(frame)
      return
    }
    queues.set(sub, [frame])
    dirty.push(sub)
    if (!scheduled) {
      scheduled = true
      setImmediate(flush)
    }
  }
  const flush = (): void => {
    const end = Math.min(dirty.length, dirtyHead + 128)
    for (; dirtyHead < end; dirtyHead++) {
      const sub = dirty[dirtyHead] as ServerResponse
      const frames = queues.get(sub) as Buffer[]
      queues.delete(sub)
      if (sub.destroyed) continue
      if (frames.length !== lastFrames.length || frames.some((f, i) => f !== lastFrames[i])) {
        lastFrames = frames
        const joined = frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames)
        lastChunk = Buffer.concat([
          Buffer.from(`${joined.length.toString(16)}\r\n`),
          joined,
          Buffer.from('\r\n'),
        ])
      }
      sub.socket?.write(lastChunk)
    }
    if (dirtyHead < dirty.length) {
      setImmediate(flush)
      return
    }
    dirty = []
    dirtyHead = 0
    scheduled = false
    lastFrames = []
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x')
    if (req.method === 'GET' && url.pathname === '/sub') {
      const topics = url.searchParams.getAll('topic')
      res.writeHead(200, {
        'content-type': 'text/event-stream',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        // Chunks are framed here (see `chunked`), once per joined buffer, and written to the socket.
        'transfer-encoding': 'chunked',
      })
      req.socket.setNoDelay(true)
      res.write(opening)
      const all = topics.includes('*')
      const after = Number(req.headers['last-event-id'] ?? Number.NaN)
      if (Number.isInteger(after)) {
        for (let id = Math.max(after + 1, lastId - history + 1); id <= lastId; id++) {
          const entry = ring[id % history]
          if (entry !== undefined && (all || topics.includes(entry.topic))) res.write(entry.frame)
        }
      }
      if (all) everything.add(res)
      else {
        for (const topic of topics) {
          const set = exact.get(topic)
          if (set === undefined) exact.set(topic, new Set([res]))
          else set.add(res)
        }
      }
      res.on('close', () => {
        everything.delete(res)
        for (const topic of topics) {
          const set = exact.get(topic)
          set?.delete(res)
          if (set?.size === 0) exact.delete(topic)
        }
      })
      return
    }
    if (req.method === 'POST' && url.pathname === '/pub') {
      const topic = url.searchParams.get('topic') ?? ''
      const chunks: Buffer[] = []
      req.on('data', (chunk: Buffer) => chunks.push(chunk))
      req.on('end', () => {
        const id = ++lastId
        const frame = Buffer.from(`id: ${id}\ndata: ${Buffer.concat(chunks).toString('utf8')}\n\n`)
        ring[id % history] = { id, topic, frame }
        const subscribers = exact.get(topic)
        if (subscribers !== undefined) for (const sub of subscribers) queueFrame(sub, frame)
        for (const sub of everything) queueFrame(sub, frame)
        res.writeHead(200, { 'content-type': 'text/plain' })
        res.end(String(id))
      })
      return
    }
    if (url.pathname === '/stats') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(JSON.stringify(process.memoryUsage()))
      return
    }
    res.writeHead(404)
    res.end()
  })
  server.listen(port, HOST)
  process.on('SIGTERM', () => {
    server.close()
    server.closeAllConnections()
    process.exit(0)
  })
}

if (process.argv[1] === FILE) serve(Number(process.argv[2]), Number(process.argv[3] ?? 1000))

import { type ClientRequest, type IncomingMessage, request } from 'node:http'
import { createParser } from '../../src/core/parse.ts'
import type { Random } from './random.ts'
import type { Reception } from './reception.ts'

/** How a raw reader consumes its stream. */
export type ReadingMode = 'fast' | 'slow' | 'stalled'

/** One stall of a stalled reader, and whether the hub cut it. */
export interface Stall {
  /** Bytes published on its topics while it did not read. */
  readonly bytesBehind: number
  /** Whether the hub ended the stream (seen once it read again). */
  readonly cut: boolean
  /** How a cut stream ended: `end` (the response was complete) or `reset`. */
  readonly how: 'end' | 'reset' | null
}

/** Options of {@link startRawReader}. */
export interface RawReaderOptions {
  reception: Reception
  mode: ReadingMode
  /** The subscription URL for the next connection (a Redis pair spreads them over both nodes). */
  url: () => string
  random: Random
  /** Whether a hub is being restarted now: streams ending then are expected. */
  restarting: () => boolean
  /** Bytes acknowledged so far on the reader's topics (how far a stalled reader fell behind). */
  bytesOnTopics: () => number
  /** Stalled readers: the longest stall, in milliseconds. */
  stallMs: number
  /** Stalled readers: a stall also ends once this many bytes were published to it. */
  stallBytes: number
}

/** A subscriber on plain `node:http`, so it can stop reading the socket when told to. */
export interface RawReader {
  readonly reception: Reception
  /** Stalled readers' stalls so far. */
  readonly stalls: readonly Stall[]
  /** Whether a stream is open now. */
  readonly connected: boolean
  /** Drops the connection and reconnects at once with its cursor (a reconnect storm). */
  bounce(): void
  close(): void
}

/**
 * Starts a reader that subscribes with `Last-Event-ID` (its start cursor, then the id of the
 * last event it got) and reconnects 100–300 ms after any end, until closed.
 */
export function startRawReader(options: RawReaderOptions): RawReader {
  const { reception, mode, random } = options
  const stalls: Stall[] = []
  let cursor = reception.initialCursor
  let current: ClientRequest | null = null
  let currentResponse: IncomingMessage | null = null
  let closed = false
  let expectedEnd = false
  let timer: ReturnType<typeof setTimeout> | undefined

  const reconnect = (delayMs: number): void => {
    if (closed) return
    clearTimeout(timer)
    timer = setTimeout(connect, delayMs)
  }

  const connect = (): void => {
    if (closed) return
    expectedEnd = false
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      if (current === req) {
        current = null
        currentResponse = null
      }
      reconnect(random.int(100, 300))
    }
    const req = request(options.url(), {
      headers: { accept: 'text/event-stream', 'last-event-id': cursor },
      agent: false,
    })
    current = req
    let responded = false
    req.on('error', () => {
      // Reset before the response: what a catch-up too deep for the hub looked like (issue #10).
      if (!responded && !expectedEnd && !closed && !options.restarting()) reception.cuts++
      finish()
    })
    req.on('response', (res) => {
      responded = true
      res.on('error', finish)
      res.on('close', finish)
      if (res.statusCode !== 200) {
        res.resume()
        return
      }
      currentResponse = res
      reception.connections++
      const resumed = res.headers['last-event-id']
      if (cursor !== 'earliest' && resumed === 'earliest') reception.unknownCursors.push(cursor)
      const parser = createParser({
        lastEventId: cursor,
        onEvent: (message) => {
          reception.record(message.lastEventId, message.data)
          cursor = message.lastEventId
        },
      })
      res.on('data', (chunk: Buffer) => parser.feed(chunk))
      res.on('close', () => {
        if (expectedEnd || closed || options.restarting()) return
        if (res.complete) reception.drops++
        else reception.cuts++
      })
      if (mode === 'slow') readSlowly(res)
      if (mode === 'stalled') void stallOnce(req, res)
    })
    req.end()
  }

  // Reads for 200–800 ms, pauses for 100–500 ms: slower than a fast reader at every moment of
  // a pause, but far faster than the publishers on average.
  const readSlowly = (res: IncomingMessage): void => {
    const pause = (): void => {
      if (res.destroyed) return
      res.pause()
      setTimeout(
        () => {
          if (res.destroyed) return
          res.resume()
          setTimeout(pause, random.int(200, 800))
        },
        random.int(100, 500),
      )
    }
    setTimeout(pause, random.int(200, 800))
  }

  // Reads for 2 s, then stops reading until `stallMs` passed or `stallBytes` were published to
  // it, then reads again to see whether the hub ended the stream meanwhile.
  const stallOnce = async (req: ClientRequest, res: IncomingMessage): Promise<void> => {
    await sleep(2000)
    if (closed || res.destroyed || current !== req) return
    res.pause()
    const from = options.bytesOnTopics()
    const began = Date.now()
    let interrupted = false
    while (
      !closed &&
      Date.now() - began < options.stallMs &&
      options.bytesOnTopics() - from < options.stallBytes
    ) {
      if (options.restarting()) interrupted = true
      await sleep(100)
    }
    if (closed) return
    const bytesBehind = options.bytesOnTopics() - from
    expectedEnd = true
    const ended = new Promise<boolean>((resolve) => {
      if (res.destroyed || res.readableEnded) resolve(true)
      res.once('close', () => resolve(true))
      setTimeout(() => resolve(false), 5000)
    })
    res.resume()
    const cut = await ended
    if (closed) return
    const how = cut ? (res.complete ? 'end' : 'reset') : null
    if (!interrupted && !options.restarting()) stalls.push({ bytesBehind, cut, how })
    if (!cut) req.destroy()
  }

  connect()
  return {
    reception,
    stalls,
    get connected() {
      return currentResponse !== null && !currentResponse.destroyed
    },
    bounce() {
      if (current === null) return
      expectedEnd = true
      current.destroy()
    },
    close() {
      closed = true
      clearTimeout(timer)
      current?.destroy()
    },
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

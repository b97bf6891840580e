// The load generator's receive path: just enough HTTP and SSE to find each event's payload, so
// that the generator, not the server, is never the bottleneck. It finds the end of the response
// headers, undoes chunked transfer coding when the server uses it, splits the body on the blank
// line that ends an event ("\n\n": every peer writes LF line endings), and reads the sequence
// number and send time from the `data:` line. No full SSE parser on this path.

/** What the publishers put in `data`: `P<seq>.<send time, hrtime ns>.` padded with `x`. */
export function makePayload(seq: number, sentNs: number, size: number): string {
  const head = `P${seq}.${sentNs}.`
  return head.length >= size ? head : head + 'x'.repeat(size - head.length)
}

/** Called for each event whose data is a bench payload. */
export type PayloadHandler = (seq: number, sentNs: number) => void

/** The receive state of one SSE response. */
export interface StreamScanner {
  /** Feeds bytes as they arrive from the socket; keeps none of `chunk` (copies what it needs). */
  feed(chunk: Buffer): void
  /** The response status, `0` until the headers are in. */
  readonly status: number
  /** Events seen whose data was not a bench payload (comments and heartbeats are not events). */
  readonly foreign: number
}

const CRLFCRLF = Buffer.from('\r\n\r\n')
const LFLF = Buffer.from('\n\n')
const DATA = Buffer.from('data:')
const CHUNKED = /^transfer-encoding:[ \t]*chunked/im
const P = 0x50
const DOT = 0x2e
const ZERO = 0x30
const SPACE = 0x20
const CR = 0x0d
const LF = 0x0a
const SEMICOLON = 0x3b

/** Creates the scanner of one response; `onHeaders` runs once, `onPayload` per bench event. */
export function createStreamScanner(
  onHeaders: (status: number) => void,
  onPayload: PayloadHandler,
): StreamScanner {
  let status = 0
  let foreign = 0
  let head: Buffer | null = null
  let chunked = false
  // Chunked decoding: 'size' reads the hex length line, 'data' copies that many bytes, 'crlf'
  // skips the CRLF after them, 'done' follows the last (empty) chunk.
  let chunkState: 'size' | 'data' | 'crlf' | 'done' = 'size'
  let chunkLeft = 0
  let size = 0
  let inExtension = false
  let carry: Buffer | null = null

  const scanBody = (piece: Buffer): void => {
    let buf = piece
    if (carry !== null) {
      buf = Buffer.concat([carry, piece])
      carry = null
    }
    let start = 0
    for (;;) {
      const end = buf.indexOf(LFLF, start)
      if (end === -1) break
      let d = buf.indexOf(DATA, start)
      if (d !== -1 && d < end) {
        d += 5
        if (buf[d] === SPACE) d++
        if (buf[d] === P) {
          let i = d + 1
          let seq = 0
          let c = buf[i] as number
          while (c !== DOT && i < end) {
            seq = seq * 10 + (c - ZERO)
            c = buf[++i] as number
          }
          let sent = 0
          c = buf[++i] as number
          while (c !== DOT && i < end) {
            sent = sent * 10 + (c - ZERO)
            c = buf[++i] as number
          }
          onPayload(seq, sent)
        } else {
          foreign++
        }
      }
      start = end + 2
    }
    // Copy the tail: keeping a subarray would pin the whole socket read in memory.
    if (start < buf.length) carry = Buffer.from(buf.subarray(start))
  }

  const dechunk = (buf: Buffer): void => {
    let i = 0
    while (i < buf.length) {
      if (chunkState === 'data') {
        const take = Math.min(chunkLeft, buf.length - i)
        scanBody(buf.subarray(i, i + take))
        i += take
        chunkLeft -= take
        if (chunkLeft === 0) chunkState = 'crlf'
      } else if (chunkState === 'crlf') {
        // Two bytes, possibly split across reads: skip CR and LF one at a time.
        const c = buf[i++]
        if (c === LF) chunkState = 'size'
      } else if (chunkState === 'size') {
        const c = buf[i++] as number
        if (c === LF) {
          chunkLeft = size
          size = 0
          inExtension = false
          chunkState = chunkLeft > 0 ? 'data' : 'done'
        } else if (c === SEMICOLON) {
          inExtension = true
        } else if (c !== CR && !inExtension) {
          // Hex digit: 0-9, A-F, a-f.
          size = size * 16 + (c <= 0x39 ? c - ZERO : (c | 0x20) - 0x57)
        }
      } else {
        return
      }
    }
  }

  return {
    get status() {
      return status
    },
    get foreign() {
      return foreign
    },
    feed(chunk) {
      if (status !== 0) {
        if (chunked) dechunk(chunk)
        else scanBody(chunk)
        return
      }
      // A copy: the caller may reuse `chunk`'s memory for its next read.
      head = head === null ? Buffer.from(chunk) : Buffer.concat([head, chunk])
      const end = head.indexOf(CRLFCRLF)
      if (end === -1) return
      const text = head.toString('latin1', 0, end)
      status = Number(text.slice(9, 12))
      chunked = CHUNKED.test(text)
      const rest = head.subarray(end + 4)
      head = null
      onHeaders(status)
      if (rest.length > 0) {
        if (chunked) dechunk(rest)
        else scanBody(rest)
      }
    },
  }
}

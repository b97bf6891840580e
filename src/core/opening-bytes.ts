import { formatComment, formatRetry } from './encode.ts'

const textEncoder = new TextEncoder()

// Nearly every stream opens with the same bytes (`: ok` and no retry): they are encoded once and
// shared. An encoded string is an off-heap buffer, and the native memory of one per connection
// stays in the process (the allocator keeps freed blocks) long after the buffer is collected.
const DEFAULT_OPENING = textEncoder.encode(formatComment('ok'))
let lastHead = ''
let lastHeadBytes: Uint8Array = new Uint8Array(0)

/**
 * The bytes a stream opens with: the comment `opening`, then `retry` (milliseconds) when given.
 * The default (`ok`, no retry) is neither formatted nor encoded again; any other head is encoded
 * once for as long as streams keep asking for the same one.
 */
export function openingBytes(opening: string, retry: number | null | undefined): Uint8Array {
  if (opening === 'ok' && retry == null) return DEFAULT_OPENING
  // No blank line after the comment or the retry: a conforming client ignores a block that holds
  // no data, but @microsoft/fetch-event-source and extended-eventsource hand such a block to the
  // application as an empty message. Without the blank line they are lines of the first event's
  // block, where comments are skipped and `retry` applies at once ([spec] "If the field name is
  // retry … set the event stream's reconnection time").
  let head = formatComment(opening)
  if (retry != null) head += `${formatRetry(retry).trimEnd()}\n`
  if (head !== lastHead) {
    lastHeadBytes = textEncoder.encode(head)
    lastHead = head
  }
  return lastHeadBytes
}

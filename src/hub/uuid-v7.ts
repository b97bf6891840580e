/**
 * A UUIDv7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then random bits. Ids made in the same
 * millisecond are kept increasing by bumping a counter in the random part, so ids sort in the
 * order they were made on this process (handy in logs and for humans; the hub orders by cursor).
 */
export function uuidV7(now: number = Date.now()): string {
  // Random bytes are drawn 4 KiB at a time, as Node's randomUUID does: one call to the system's
  // generator per 256 ids rather than per id (it showed in the publish profile).
  if (poolOffset === POOL_BYTES) {
    crypto.getRandomValues(pool)
    poolOffset = 0
  }
  // Read in place: a copy of the 16 bytes (a typed array per id) and a hex string sliced in five
  // cost more than the rest of the id (issue #15).
  const at = poolOffset
  poolOffset += 16
  if (now <= lastMs) {
    now = lastMs
    sequence = (sequence + 1) & 0xfff
    if (sequence === 0) now = ++lastMs
  } else {
    sequence = (((pool[at + 6] as number) << 8) | (pool[at + 7] as number)) & 0x7ff
  }
  lastMs = now
  // The time's 48 bits change once a millisecond: their hex is made once for all the ids of one.
  if (now !== prefixMs) {
    const high = Math.floor(now / 2 ** 32)
    prefix = `${hex(high >>> 8)}${hex(high)}${hex(now >>> 24)}${hex(now >>> 16)}-${hex(now >>> 8)}${hex(now)}-`
    prefixMs = now
  }
  return (
    prefix +
    hex(0x70 | (sequence >>> 8)) +
    hex(sequence) +
    '-' +
    hex(0x80 | ((pool[at + 8] as number) & 0x3f)) +
    hex(pool[at + 9] as number) +
    '-' +
    hex(pool[at + 10] as number) +
    hex(pool[at + 11] as number) +
    hex(pool[at + 12] as number) +
    hex(pool[at + 13] as number) +
    hex(pool[at + 14] as number) +
    hex(pool[at + 15] as number)
  )
}

/** The two hex digits of the low byte of `value`. */
function hex(value: number): string {
  return HEX[value & 0xff] as string
}

const POOL_BYTES = 4096
const pool = new Uint8Array(POOL_BYTES)
let poolOffset = POOL_BYTES
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))
let lastMs = 0
let sequence = 0
let prefixMs = -1
let prefix = ''

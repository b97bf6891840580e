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
  const bytes = pool.slice(poolOffset, poolOffset + 16)
  poolOffset += 16
  if (now <= lastMs) {
    now = lastMs
    sequence = (sequence + 1) & 0xfff
    if (sequence === 0) now = ++lastMs
  } else {
    sequence = (((bytes[6] as number) << 8) | (bytes[7] as number)) & 0x7ff
  }
  lastMs = now
  bytes[0] = Math.floor(now / 2 ** 40) & 0xff
  bytes[1] = Math.floor(now / 2 ** 32) & 0xff
  bytes[2] = (now >>> 24) & 0xff
  bytes[3] = (now >>> 16) & 0xff
  bytes[4] = (now >>> 8) & 0xff
  bytes[5] = now & 0xff
  bytes[6] = 0x70 | ((sequence >>> 8) & 0x0f)
  bytes[7] = sequence & 0xff
  bytes[8] = 0x80 | ((bytes[8] as number) & 0x3f)
  let hex = ''
  for (const byte of bytes) hex += HEX[byte] as string
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const POOL_BYTES = 4096
const pool = new Uint8Array(POOL_BYTES)
let poolOffset = POOL_BYTES
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'))
let lastMs = 0
let sequence = 0

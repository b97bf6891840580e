import type { Random } from './random.ts'

/** The largest payload the soak publishes: 256 KiB. */
export const LARGEST_PAYLOAD = 262_144

/**
 * The size of an ordinary update's `data`, in bytes: mostly small (10 B–1 KiB, 80 %), some the
 * size of real API resources (2–32 KiB, 19 %), a few of 256 KiB (1 %).
 */
export function ordinarySize(random: Random): number {
  const p = random.next()
  if (p < 0.01) return LARGEST_PAYLOAD
  if (p < 0.2) return Math.round(random.logUniform(2048, 32_768))
  return Math.round(random.logUniform(10, 1024))
}

/** The size of an update in a heavy burst: 16–32 KiB, the burst that issue #10 saw cut readers. */
export function heavySize(random: Random): number {
  return random.int(16_384, 32_768)
}

// Printable ASCII without `%`, `&`, `+` or `=`, so the form encoding does not inflate the body and
// a received payload can be compared with the sent one character for character.
const FILLER = (() => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.'
  let text = ''
  while (text.length < LARGEST_PAYLOAD) text += alphabet
  return text.slice(0, LARGEST_PAYLOAD)
})()

/**
 * The `data` of the update `id`: `id;` then filler, cut to exactly `size` characters (one byte
 * each), so a receiver can tell a whole payload from a truncated or mixed-up one.
 */
export function payloadOf(id: string, size: number): string {
  const head = `${id};`
  if (head.length >= size) return head.slice(0, size)
  return head + FILLER.slice(0, size - head.length)
}

import { createHmac, timingSafeEqual } from 'node:crypto'

/** The header that carries a webhook's signature: `t=<unix seconds>,v1=<hex HMAC-SHA256>`. */
export const WEBHOOK_SIGNATURE_HEADER = 'ssehub-signature'

/** The header that carries a webhook event's id, the same as the body's `id`. */
export const WEBHOOK_ID_HEADER = 'ssehub-webhook-id'

/**
 * Signs one webhook body: `t=<timestamp>,v1=<hex>` where the hex is HMAC-SHA256, keyed by
 * `secret`, of `<timestamp>.<body>` (the exact bytes sent). The timestamp is inside the MAC, so a
 * receiver that rejects old timestamps bounds how long a captured request can be replayed.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')
  return `t=${timestamp},v1=${mac}`
}

/** Options for {@link verifyWebhookSignature}. */
export interface VerifyWebhookOptions {
  /** How old (or how far in the future) a timestamp may be, in seconds. Defaults to `300`. */
  toleranceSeconds?: number
  /** The time now, in seconds since the epoch. Defaults to the clock's. */
  now?: number
}

/**
 * Whether `header` (an `ssehub-signature` value) signs `body` with `secret` and a timestamp within
 * the tolerance. Any `v1=` entry may match, so a receiver keeps working while the hub's secret is
 * rotated. Compared in constant time: a byte-by-byte comparison leaks, through its timing, how
 * much of a forged MAC is right.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | undefined | null,
  body: string,
  options: VerifyWebhookOptions = {},
): boolean {
  if (typeof header !== 'string') return false
  let timestamp: number | undefined
  const macs: string[] = []
  for (const part of header.split(',')) {
    const [key, value] = part.trim().split('=', 2)
    if (key === 't' && value !== undefined && /^\d{1,12}$/.test(value)) timestamp = Number(value)
    else if (key === 'v1' && value !== undefined && /^[0-9a-f]{64}$/.test(value)) macs.push(value)
  }
  if (timestamp === undefined || macs.length === 0) return false
  const now = options.now ?? Math.floor(Date.now() / 1000)
  // Replay guard: a request captured once cannot be sent again after the tolerance.
  if (Math.abs(now - timestamp) > (options.toleranceSeconds ?? 300)) return false
  const expected = Buffer.from(signWebhook(secret, timestamp, body).slice(-64), 'hex')
  return macs.some((mac) => timingSafeEqual(Buffer.from(mac, 'hex'), expected))
}

import { createHash, timingSafeEqual } from 'node:crypto'

/** Checks candidates against one configured secret token (the metrics and admin tokens). */
export interface SecretToken {
  /** Whether `candidate` is the token, compared in constant time. */
  matches(candidate: string): boolean
  /** Whether an `Authorization` header is `Bearer <the token>`. */
  matchesBearer(header: string | undefined): boolean
}

/**
 * Makes the check for `token`. Both sides are hashed to digests of equal length first, so
 * `timingSafeEqual` never throws and the time taken tells neither the token's length nor how much
 * of a guess was right (timing attack).
 */
export function secretToken(token: string): SecretToken {
  const expected = digest(token)
  const matches = (candidate: string): boolean => timingSafeEqual(digest(candidate), expected)
  return {
    matches,
    matchesBearer(header) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')
      return match !== null && matches(match[1] as string)
    },
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

import { subscriptionTopic } from '../hub/index.ts'

/** Room names: short, lowercase, URL-safe, so topics and paths need no escaping surprises. */
const ROOM_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/

/** The topic a room's messages are published to. */
export function roomTopic(room: string): string {
  return `urn:ssehub:chat:${room}`
}

/**
 * Mercure 0.x: the selector of a room's subscription events (who is online): every subscriber of the room's
 * topic, `/.well-known/mercure/subscriptions/<room topic>{/subscriber}`. It also matches the
 * subscriptions API's path for the room, so one claim lets a member list and follow presence.
 */
export function presenceSelector(room: string): string {
  const prefix = subscriptionTopic(roomTopic(room), 'x').slice(0, -'/x'.length)
  return `${prefix}{/subscriber}`
}

/** Where the hub publishes subscription events and lists subscriptions. */
const SUBSCRIPTIONS_PATH = '/.well-known/mercure/subscriptions'

/**
 * One path segment holding `value` whole, as the hub writes its subscription topics: every
 * character outside `A-Za-z0-9-._~` percent-encoded, exactly once.
 */
function segment(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  )
}

/**
 * Mercure 1.0: the subscriptions API path listing who follows a room (its exact-match
 * subscriptions), `/.well-known/mercure/subscriptions/exact/<room topic>`.
 */
export function presenceListPath(room: string): string {
  return `${SUBSCRIPTIONS_PATH}/exact/${segment(roomTopic(room))}`
}

/**
 * Mercure 1.0: the URL pattern of a room's subscription events (who is online), one per
 * subscriber: `/.well-known/mercure/subscriptions/exact/<room topic>/:subscriber`. A member
 * subscribes with it and is granted it, so no member sees who follows another room.
 */
export function presencePattern(room: string): string {
  return `${presenceListPath(room)}/:subscriber`
}

/** Checks a nickname: what is wrong with it, or `null`. */
export function checkNickname(nickname: unknown): string | null {
  if (typeof nickname !== 'string' || nickname.trim() === '') return 'Choose a nickname.'
  if ([...nickname].length > 32) return 'A nickname has at most 32 characters.'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  if (/[\u0000-\u001f\u007f-\u009f]/.test(nickname))
    return 'A nickname cannot contain control characters.'
  return null
}

/** Checks a room name: what is wrong with it, or `null`. */
export function checkRoom(room: unknown): string | null {
  if (typeof room !== 'string' || !ROOM_NAME.test(room)) {
    return 'A room name has 1 to 32 lowercase letters, digits or dashes, and starts with a letter or digit.'
  }
  return null
}

import { subscriptionTopic } from '../hub/index.ts'

/** Room names: short, lowercase, URL-safe, so topics and paths need no escaping surprises. */
const ROOM_NAME = /^[a-z0-9][a-z0-9-]{0,31}$/

/** The topic a room's messages are published to. */
export function roomTopic(room: string): string {
  return `urn:ssehub:chat:${room}`
}

/**
 * The selector of a room's subscription events (who is online): every subscriber of the room's
 * topic, `/.well-known/mercure/subscriptions/<room topic>{/subscriber}`. It also matches the
 * subscriptions API's path for the room, so one claim lets a member list and follow presence.
 */
export function presenceSelector(room: string): string {
  const prefix = subscriptionTopic(roomTopic(room), 'x').slice(0, -'/x'.length)
  return `${prefix}{/subscriber}`
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

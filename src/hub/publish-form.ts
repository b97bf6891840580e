import type { Update } from './update.ts'
import { uuidV7 } from './uuid-v7.ts'

/** Limits applied to a publish form. */
export interface PublishLimits {
  /** Most `topic` fields in one update. Defaults to `1000` (the reference hub's limit). */
  maxTopics?: number
  /** Longest topic, in characters. Defaults to `8192`. */
  maxTopicLength?: number
}

/** A publish form that cannot become an update: the status and the message for the publisher. */
export interface PublishFormError {
  status: 400
  message: string
}

// C0 controls, DEL and C1 controls: never part of an IRI, and CR/LF in a topic would corrupt the
// JSON-LD subscription events and logs that repeat it.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
// [spec] id and type become SSE fields: CR or LF would start a new field (CWE-93), NUL is refused
// by the client for ids.
const CR_LF_NUL = /[\r\n\0]/
const DIGITS = /^\d+$/

/**
 * Turns a form-encoded publish body (Mercure draft-07 §Publication: `topic` repeated, `data`,
 * `private`, `id`, `type`, `retry`) into an {@link Update}, or says which field is wrong.
 * Unknown fields are ignored. Without an `id`, the hub generates `urn:uuid:<UUIDv7>`.
 */
export function parsePublishForm(
  body: string,
  limits: PublishLimits = {},
): Update | PublishFormError {
  const maxTopics = limits.maxTopics ?? 1000
  const maxTopicLength = limits.maxTopicLength ?? 8192
  const form = new URLSearchParams(body)

  const topics = form.getAll('topic')
  if (topics.length === 0)
    return bad('Missing "topic" parameter: an update needs at least one topic.')
  if (topics.length > maxTopics)
    return bad(`Too many "topic" parameters: ${topics.length}, at most ${maxTopics}.`)
  for (const topic of topics) {
    if (topic === '') return bad('A "topic" parameter is empty.')
    if (topic.length > maxTopicLength)
      return bad(`A "topic" is longer than ${maxTopicLength} characters.`)
    if (CONTROL.test(topic)) return bad('A "topic" contains a control character.')
  }

  let id = form.get('id')
  if (id === null || id === '') {
    id = `urn:uuid:${uuidV7()}`
  } else {
    if (CR_LF_NUL.test(id)) return bad('The "id" must not contain CR, LF or NUL.')
    if (id.startsWith('#')) return bad('The "id" must not start with "#" (reserved for the hub).')
    if (id === 'earliest')
      return bad('The "id" "earliest" is reserved: it asks for the whole history.')
  }

  const type = form.get('type')
  if (type !== null && CR_LF_NUL.test(type))
    return bad('The "type" must not contain CR, LF or NUL.')

  const retryText = form.get('retry')
  let retry: number | undefined
  if (retryText !== null && retryText !== '') {
    if (!DIGITS.test(retryText) || Number(retryText) > 2_147_483_647) {
      return bad(
        'The "retry" must be a whole number of milliseconds (digits only, at most 2147483647).',
      )
    }
    retry = Number(retryText)
  }

  return {
    id,
    topics,
    data: form.get('data') ?? '',
    // [spec] "its presence alone makes the update private", whatever its value, even empty.
    private: form.has('private'),
    type: type === null || type === '' ? undefined : type,
    retry,
  }
}

/** Whether `value` is a {@link PublishFormError}. */
export function isPublishFormError(value: Update | PublishFormError): value is PublishFormError {
  return 'status' in value
}

function bad(message: string): PublishFormError {
  return { status: 400, message }
}

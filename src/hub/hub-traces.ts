import type { EventStore } from './event-store.ts'
import type { TraceSpan } from './trace-span.ts'
import type { StoredUpdate, Update } from './update.ts'

// The hub's spans (`store.commit`, `dispatch`, `replay`), in their own file so the hub's paths
// carry one `if` each when nothing is traced. A dispatch runs in the store's commit, before the
// append resolves, with no link to the publish that caused it (a batch may hold several, and
// another node's arrive the same way): the hub keeps the publish spans it waits on by update id.

/**
 * Publish spans of the updates being committed, by update id. One per hub; empty unless tracing,
 * and then holding only the appends not yet resolved.
 */
export type PublishSpans = Map<string, TraceSpan>

/**
 * Appends `update` under `publish`, the publish request's span: a `store.commit` child for the
 * commit, and the update's size on `publish` (`ssehub.topics`, `ssehub.private`, `ssehub.bytes`:
 * its payload in UTF-8). While it commits, the dispatch finds `publish` in `spans`.
 */
export async function appendTraced(
  store: EventStore,
  update: Update,
  publish: TraceSpan,
  spans: PublishSpans,
): Promise<StoredUpdate> {
  publish.setAttribute('ssehub.topics', update.topics.length)
  publish.setAttribute('ssehub.private', update.private)
  publish.setAttribute('ssehub.bytes', utf8Length(update.data))
  const commit = publish.child('store.commit')
  spans.set(update.id, publish)
  try {
    return await store.append(update)
  } catch (error) {
    commit.fail(error instanceof Error ? error.name : 'append failed')
    throw error
  } finally {
    commit.end()
    // A retry of the same id may have taken the entry meanwhile: only this span's is removed.
    if (spans.get(update.id) === publish) spans.delete(update.id)
  }
}

/** Starts the `dispatch` span of `update`, if the publish that committed it is traced. */
export function startDispatch(spans: PublishSpans, update: StoredUpdate): TraceSpan | undefined {
  return spans.get(update.id)?.child('dispatch')
}

/** Ends a span with a count: `ssehub.subscribers` reached by a dispatch, `ssehub.replayed`. */
export function endCounted(span: TraceSpan, key: string, count: number): void {
  span.setAttribute(key, count)
  span.end()
}

/** Ends a span that failed with `error` (its name only: messages may quote what they refused). */
export function endFailed(span: TraceSpan, error: unknown): void {
  span.fail(error instanceof Error ? error.name : 'failed')
  span.end()
}

/** The UTF-8 length of `text` in bytes, without encoding it. */
function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) continue
    if (code < 0x800) bytes += 1
    else if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: two UTF-16 units, four bytes (a lone surrogate is U+FFFD, three).
      bytes += 2
      i++
    } else bytes += 2
  }
  return bytes
}

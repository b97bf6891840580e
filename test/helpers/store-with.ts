import type { EventStore } from '../../src/hub/event-store.ts'

/**
 * `store` with some of its methods replaced: a store that fails or flaps where a test says, and
 * otherwise behaves as `store` (every other method is delegated to it).
 */
export function storeWith(store: EventStore, overrides: Partial<EventStore>): EventStore {
  return {
    kind: store.kind,
    append: (update) => store.append(update),
    onCommit: (listener) => store.onCommit(listener),
    head: () => store.head(),
    headId: () => store.headId(),
    find: (id) => store.find(id),
    read: (after, upTo, limit) => store.read(after, upTo, limit),
    size: () => store.size(),
    ready: () => store.ready(),
    close: () => store.close(),
    ...overrides,
  }
}

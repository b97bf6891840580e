// The driver's handle under a store, kept out of the stores' public types. Tests reach it through
// test/helpers/sqlite-handle.ts to inject faults (close it, cap its size with
// `PRAGMA max_page_count`); no entry point exports this file, so neither can users. The hub must
// never use it: a store assumes it is its database's only writer.

/** Each live store's handle, dropped with the store. */
const handles = new WeakMap<object, unknown>()

/** Records `handle` as the driver's handle under `store`; stores call it once, when opened. */
export function keepDriverHandle(store: object, handle: unknown): void {
  handles.set(store, handle)
}

/** The driver's handle under `store`. Throws a `TypeError` for an object no store recorded. */
export function driverHandleOf(store: object): unknown {
  if (!handles.has(store)) throw new TypeError('not a store that recorded a driver handle')
  return handles.get(store)
}

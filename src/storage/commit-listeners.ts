import type { StoredUpdate } from '../hub/update.ts'

type Listener = (updates: readonly StoredUpdate[]) => void

/**
 * The listeners of one store's commits (see `EventStore.onCommit`), shared by every store so
 * they all deliver the same way.
 */
export class CommitListeners {
  // A wrapper per registration, so registering one function twice means two deliveries and each
  // unregister function removes only its own.
  readonly #registrations = new Set<{ readonly listener: Listener }>()

  /** Registers `listener`; returns the function that unregisters it. */
  add(listener: Listener): () => void {
    const registration = { listener }
    this.#registrations.add(registration)
    return () => {
      this.#registrations.delete(registration)
    }
  }

  /**
   * Calls each listener registered now with `updates`. One throwing listener neither stops the
   * others nor fails the appends (they are committed); its error is rethrown on its own so it
   * still surfaces as an uncaught exception instead of vanishing, as Node's `EventTarget` does.
   */
  dispatch(updates: readonly StoredUpdate[]): void {
    const registrations = this.#registrations
    // A store has one listener, its hub: called without the snapshot below (an array per commit).
    if (registrations.size === 1) {
      // Taken before the call: a Set's loop would also visit a listener registered during it.
      const only = registrations.values().next().value as { readonly listener: Listener }
      call(only.listener, updates)
      return
    }
    // A snapshot: a listener registered during this dispatch has already seen head() move past
    // this batch, so giving it the batch too would be a duplicate.
    for (const registration of [...registrations]) {
      if (!registrations.has(registration)) continue
      call(registration.listener, updates)
    }
  }
}

function call(listener: Listener, updates: readonly StoredUpdate[]): void {
  try {
    listener(updates)
  } catch (error) {
    queueMicrotask(() => {
      throw error
    })
  }
}

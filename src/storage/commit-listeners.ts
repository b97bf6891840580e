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
    // A snapshot: a listener registered during this dispatch has already seen head() move past
    // this batch, so giving it the batch too would be a duplicate.
    for (const registration of [...this.#registrations]) {
      if (!this.#registrations.has(registration)) continue
      try {
        registration.listener(updates)
      } catch (error) {
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }
}

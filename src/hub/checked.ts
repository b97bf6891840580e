/**
 * What reading input gives: the value it reads as, or why it is refused, as a message for the
 * client (a 400's text) that quotes nothing it should not. The validators of the protocol return
 * this shape (`parseUrlEncodedForm`, `compileUriTemplate`); refusals that carry a status of their
 * own are `AuthError`s, and configuration mistakes throw.
 */
export type Checked<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly message: string }

/** The input is fine, and reads as `value`. */
export function accepted<T>(value: T): Checked<T> {
  return { ok: true, value }
}

/** The input is refused, for the reason `message` gives. */
export function refused(message: string): { readonly ok: false; readonly message: string } {
  return { ok: false, message }
}

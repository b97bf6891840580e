import { AuthError } from '../hub/auth-error.ts'
import type { TraceSpan } from '../hub/trace-span.ts'
import type { TokenCheck, VerifiedToken } from './request-token.ts'

/** A {@link TokenCheck} of requests that may carry their span (`HubRequest.trace`). */
export type TracedTokenCheck = (
  role: Parameters<TokenCheck>[0],
  request: Parameters<TokenCheck>[1] & { readonly trace?: TraceSpan | undefined },
  speaks: Parameters<TokenCheck>[2],
) => VerifiedToken | Promise<VerifiedToken>

/**
 * `check`, recording each check of a traced request as an `auth` span under the request's:
 * `ssehub.role`, `ssehub.token` (where the token was found: `header`, `cookie`, `query`, or
 * `none`) and, on failure, the refusal's code (`invalid-token`, `missing-token`…), never the
 * token. The request's span gets `ssehub.protocol`. Untraced (`traced` false), `check` itself is
 * returned: no wrapper runs.
 */
export function traceTokenCheck(check: TokenCheck, traced: boolean): TracedTokenCheck {
  if (!traced) return check
  return async (role, request, speaks) => {
    const { trace } = request
    if (trace === undefined) return check(role, request, speaks)
    const auth = trace.child('auth')
    auth.setAttribute('ssehub.role', role)
    try {
      const verified = await check(role, request, speaks)
      auth.setAttribute('ssehub.token', verified.found?.source ?? 'none')
      // A token's claims say `undefined` for 0.x; no token and no parameters say nothing.
      const { claims } = verified
      const protocol = speaks ?? (claims === null ? undefined : (claims.protocol ?? '0.x'))
      if (protocol !== undefined) trace.setAttribute('ssehub.protocol', protocol)
      return verified
    } catch (error) {
      auth.fail(AuthError.is(error) ? error.code : error instanceof Error ? error.name : 'failed')
      throw error
    } finally {
      auth.end()
    }
  }
}

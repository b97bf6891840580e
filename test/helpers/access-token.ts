import { SignJWT } from 'jose'
import { TEST_SECRET } from './hub-server.ts'

/** The issuer and resource identifier of Mercure's conformance suite, which tests use too. */
export const ISSUER = 'https://localhost'
export const RESOURCE = 'https://localhost/.well-known/mercure'
/** [spec] draft-08: the type of a Mercure authorization detail. */
export const DETAIL = 'https://mercure.rocks/authorization-detail'

const UTF8 = new TextEncoder()

/**
 * A Mercure 1.0 access token (RFC 9068), HS256 with {@link TEST_SECRET}: `aud` {@link RESOURCE},
 * `iss` {@link ISSUER}, `exp` in 2100, then `claims` (an `undefined` one removes it).
 */
export function accessToken(
  details: unknown[],
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = { typ: 'at+jwt' },
): Promise<string> {
  return new SignJWT({
    aud: RESOURCE,
    iss: ISSUER,
    exp: 4102444800,
    ...claims,
    authorization_details: details,
  })
    .setProtectedHeader({ alg: 'HS256', ...header })
    .sign(UTF8.encode(TEST_SECRET))
}

/** A Mercure authorization detail granting `actions` on `topics`. */
export const grant = (
  actions: string[],
  ...topics: Array<{ match: string; match_type?: string }>
) => ({ type: DETAIL, actions, topics })

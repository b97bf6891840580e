import { ConfigError } from './config-error.ts'
import type { SettingSpec, SettingText } from './setting-values.ts'

/** The settings of the admin dashboard, validated. */
export interface AdminSettings {
  /**
   * The token that opens the dashboard at `/admin/`; `null` for none (the dashboard is then off,
   * but in development mode, where the CLI generates one for the run).
   */
  adminToken: string | null
}

/** Their flags, environment variables and help lines, as in `config.ts`'s table. */
export const ADMIN_SETTINGS = {
  'admin-token': {
    env: ['SSEHUB_ADMIN_TOKEN'],
    arg: '<token>',
    help: 'turns the dashboard at /admin/ on; log in with this token',
    shown: 'none',
  },
} as const satisfies Record<string, SettingSpec>

/** A secret shorter than this is a placeholder, not a credential. */
const MIN_TOKEN_LENGTH = 16

/**
 * Reads and checks the {@link AdminSettings}; `pick` gives a setting's value only when it was set.
 *
 * @throws {ConfigError} naming the setting and the fix.
 */
export function adminSettings(
  pick: (name: keyof typeof ADMIN_SETTINGS) => SettingText | undefined,
): AdminSettings {
  const token = pick('admin-token')
  // The token is never quoted back: the message may end up in a log. A short one ("admin",
  // "changeme") falls to a dictionary guess at the login form.
  if (token !== undefined && token.value.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(
      `${token.from} is shorter than ${MIN_TOKEN_LENGTH} characters: use a random one, e.g. from "openssl rand -hex 32".`,
    )
  }
  if (token !== undefined && /\s/.test(token.value)) {
    throw new ConfigError(
      `${token.from} contains white space, which Authorization: Bearer cannot carry: use a random one, e.g. from "openssl rand -hex 32".`,
    )
  }
  return { adminToken: token?.value ?? null }
}

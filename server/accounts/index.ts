import type { Hono } from 'hono';
import type { Config } from '../config/load.ts';
import type { Sql } from '../db/database.ts';
import { requireAuth, type Authenticator } from '../http/auth.ts';
import type { AppEnv } from '../http/hono-env.ts';
import type { RateLimiter } from '../http/rate-limiter.ts';
import { accountRoutes } from './routes/account.ts';
import { loginRoutes } from './routes/login.ts';
import { registerRoutes } from './routes/register.ts';
import { userDataRoutes } from './routes/user-data.ts';
import { createAccountSecurity } from './service/account-security.ts';
import { createLogin } from './service/login.ts';
import { createRegistration } from './service/registration.ts';
import { createSessions } from './service/sessions.ts';
import { createUserData, type Profile } from './service/user-data.ts';

export type { Profile } from './service/user-data.ts';
export { parseUserId } from './service/identifiers.ts';
export { sharedSecretMac } from './service/shared-secret-mac.ts';

export interface AccountsDeps {
  sql: Sql;
  config: Config;
  rateLimiter: RateLimiter;
}

/** Accounts: registration, login, tokens, devices, profile, account data, filters. */
export function createAccounts({ sql, config, rateLimiter }: AccountsDeps) {
  const hooks = {
    onDeactivate: [] as Array<(userId: string) => Promise<void>>,
    onAccountData: [] as Array<(userId: string, streamPos: number) => void>,
    onProfileChange: [] as Array<(userId: string, profile: Profile) => Promise<void>>,
  };
  const sessions = createSessions({ sql, config });
  const registration = createRegistration({ sql, config, sessions });
  const login = createLogin({ sql, config, sessions });
  const security = createAccountSecurity({ sql, config, checkPassword: registration.checkPassword, onDeactivate: hooks.onDeactivate });
  const userData = createUserData({ sql, onAccountData: hooks.onAccountData, onProfileChange: hooks.onProfileChange });
  const authenticator: Authenticator = sessions;
  const auth = requireAuth(authenticator);

  return {
    authenticator,
    /** Middleware that requires an access token; other components guard their routes with it. */
    auth,
    registration,
    userData,
    hooks,
    start: () => registration.syncConfigTokens(),
    mount(app: Hono<AppEnv>): void {
      const deps = { config, rateLimiter, registration, login, sessions, security, userData, auth };
      registerRoutes(app, deps);
      loginRoutes(app, deps);
      accountRoutes(app, deps);
      userDataRoutes(app, deps);
    },
  };
}

export type Accounts = ReturnType<typeof createAccounts>;

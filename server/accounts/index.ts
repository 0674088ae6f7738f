import type { Hono } from 'hono';
import type { Config } from '../config/load.ts';
import type { Sql } from '../db/database.ts';
import type { PublishDomainEvent } from '../domain-events/index.ts';
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
import { createUserData } from './service/user-data.ts';

export type { DirectoryEntry, Profile } from './service/user-data.ts';
export { parseUserId } from './service/identifiers.ts';
export { sharedSecretMac } from './service/shared-secret-mac.ts';
export { randomId } from './service/secrets.ts';

export interface AccountsDeps {
  sql: Sql;
  config: Config;
  rateLimiter: RateLimiter;
  /** Account changes other components act on (deactivation, profile) are published as domain events. */
  publish: PublishDomainEvent;
  /** Wakes a user's waiting /sync once their account data changed (committed at `streamPos`). */
  wakeSync: (userId: string, streamPos: number) => void;
}

/** Accounts: registration, login, tokens, devices, profile, account data, filters. */
export function createAccounts({ sql, config, rateLimiter, publish, wakeSync }: AccountsDeps) {
  const sessions = createSessions({ sql, config });
  const registration = createRegistration({ sql, config, sessions });
  const login = createLogin({ sql, config, sessions });
  const security = createAccountSecurity({ sql, config, checkPassword: registration.checkPassword, publish });
  const userData = createUserData({ sql, wakeSync, publish });
  const authenticator: Authenticator = sessions;
  const auth = requireAuth(authenticator);

  return {
    authenticator,
    /** Middleware that requires an access token; other components guard their routes with it. */
    auth,
    registration,
    userData,
    /** Re-authentication (UIA, password) for an operation of another component. */
    confirm: security.confirm,
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

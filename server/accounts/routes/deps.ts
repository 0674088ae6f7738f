import type { MiddlewareHandler } from 'hono';
import type { Config } from '../../config/load.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import type { RateLimiter } from '../../http/rate-limiter.ts';
import type { AccountSecurity } from '../service/account-security.ts';
import type { Login } from '../service/login.ts';
import type { Registration } from '../service/registration.ts';
import type { Sessions } from '../service/sessions.ts';
import type { UserData } from '../service/user-data.ts';

/** What the accounts routes are handed by the component's index. */
export interface AccountsRouteDeps {
  config: Config;
  rateLimiter: RateLimiter;
  registration: Registration;
  login: Login;
  sessions: Sessions;
  security: AccountSecurity;
  userData: UserData;
  auth: MiddlewareHandler<AppEnv>;
}

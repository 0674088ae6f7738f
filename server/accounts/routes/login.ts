import type { Hono } from 'hono';
import { z } from 'zod';
import { readBody } from '../../http/body.ts';
import type { AppEnv } from '../../http/hono-env.ts';
import { MatrixError } from '../../http/matrix-error.ts';
import { enforceRate } from '../../http/rate-limit.ts';
import type { AccountsRouteDeps } from './deps.ts';

const loginBody = z.object({
  type: z.string(),
  identifier: z.object({ type: z.string(), user: z.string().optional() }).loose().optional(),
  user: z.string().optional(),
  password: z.string().optional(),
  device_id: z.string().min(1).max(255).optional(),
  initial_device_display_name: z.string().max(512).optional(),
  refresh_token: z.boolean().optional(),
});

export function loginRoutes(app: Hono<AppEnv>, { login, sessions, security, rateLimiter, config, auth }: AccountsRouteDeps): void {
  app.get('/_matrix/client/v3/login', (c) => c.json({ flows: login.flows() }));

  app.post('/_matrix/client/v3/login', async (c) => {
    const body = await readBody(c, loginBody);
    await enforceRate(rateLimiter, c, 'login', config.rate_limits.login);
    if (body.type !== 'm.login.password') throw new MatrixError(400, 'M_UNKNOWN', `Unknown login type ${body.type}`);
    let user: string | undefined;
    if (body.identifier) {
      if (body.identifier.type !== 'm.id.user')
        throw new MatrixError(400, 'M_UNKNOWN', `Unknown login identifier type ${body.identifier.type}`);
      user = body.identifier.user;
    } else {
      user = body.user;
    }
    if (user === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing identifier.user');
    if (body.password === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing password');
    // Failed attempts against one account are limited too, wherever they come from.
    await enforceRate(rateLimiter, c, 'login_account', config.rate_limits.login, user.toLowerCase());
    const session = await login.withPassword({
      user,
      password: body.password,
      deviceId: body.device_id,
      displayName: body.initial_device_display_name,
      refreshable: body.refresh_token ?? false,
    });
    return c.json({
      ...session,
      home_server: config.server_name,
      well_known: { 'm.homeserver': { base_url: config.public_baseurl } },
    });
  });

  app.post('/_matrix/client/v3/refresh', async (c) => {
    const body = await readBody(c, z.object({ refresh_token: z.string() }));
    return c.json(await sessions.refresh(body.refresh_token));
  });

  app.post('/_matrix/client/v3/logout', auth, async (c) => {
    await security.logout(c.get('requester'));
    return c.json({});
  });

  app.post('/_matrix/client/v3/logout/all', auth, async (c) => {
    await security.logoutAll(c.get('requester'));
    return c.json({});
  });

  app.get('/_matrix/client/v3/account/whoami', auth, (c) => {
    const r = c.get('requester');
    return c.json({ user_id: r.userId, device_id: r.deviceId, is_guest: false });
  });
}
